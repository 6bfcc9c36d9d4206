/**
 * Local time in France (Europe/Paris): curfews, inclusion-zone windows and wearers' routines are
 * local, so DST nights matter (DOMAIN.md). The zone's rules come from luxon (IANA data through
 * Intl); the mapping of local times that do not exist or exist twice is docs/RULES.md's
 * "Local-time windows", written out here because luxon's own choice differs (it moves a gap time
 * forward by the gap's length, and takes the later of two instants).
 *
 * Days are local calendar days numbered from 1970-01-01 (day 0, a Thursday).
 */
import { IANAZone } from 'luxon';

export const TIME_ZONE = 'Europe/Paris';
const zone = IANAZone.create(TIME_ZONE);

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Offset from UTC in minutes at instant t. */
function offsetAt(t: number): number {
  return zone.offset(t);
}

/**
 * Offsets at the start and end of each local day, cached: an Intl lookup costs ~10 µs and every
 * device asks for the same few days. For Paris, equal offsets mean no transition that day.
 */
const dayOffsets = new Map<number, readonly [number, number]>();

function offsetsOfDay(day: number): readonly [number, number] {
  let o = dayOffsets.get(day);
  if (o === undefined) {
    o = [offsetAt(day * DAY - 3 * 3_600_000), offsetAt(day * DAY + 21 * 3_600_000)];
    dayOffsets.set(day, o);
  }
  return o;
}

/** The local day number of instant t. */
export function localDay(t: number): number {
  const guess = Math.floor(t / DAY);
  const [before, after] = offsetsOfDay(guess);
  const off = before === after ? before : offsetAt(t);
  return Math.floor((t + off * MINUTE) / DAY);
}

/** ISO weekday of a local day: Monday = 1 … Sunday = 7 (1970-01-01 was a Thursday). */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** Local day number of a calendar date (month 1–12). */
export function dayOf(year: number, month: number, dayOfMonth: number): number {
  return Date.UTC(year, month - 1, dayOfMonth) / DAY;
}

/** "HH:MM" → minutes after midnight. */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/**
 * The instant of local wall time `minute` (minutes after midnight, may be fractional) on local day
 * `day` (docs/RULES.md): a time in the spring-forward gap means the first instant after the gap; a
 * time that exists twice (fall-back hour) means the earlier instant.
 */
export function localInstant(day: number, minute: number): number {
  const wall = day * DAY + Math.round(minute * MINUTE);
  const [before, after] = offsetsOfDay(day);
  if (before === after) return wall - before * MINUTE;
  const candidates = [before, after].map((o) => wall - o * MINUTE).filter((u, i) => offsetAt(u) === [before, after][i]);
  if (candidates.length > 0) return Math.min(...candidates);
  // In the gap: the transition instant, found by bisection between the two readings (minute steps).
  let lo = wall - Math.max(before, after) * MINUTE; // still on the old offset
  let hi = wall - Math.min(before, after) * MINUTE; // already on the new one
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (offsetAt(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** A weekly local-time window (protocol/provisioning.ts `Window`, defaults filled in). */
export interface LocalWindow {
  readonly days: readonly number[];
  readonly from: string;
  readonly to: string;
  readonly crossesMidnight: boolean;
}

/** One opening of a window: open ≤ t < close. */
export interface Period {
  readonly open: number;
  readonly close: number;
}

/** The periods of `windows` that open on local day `day`, by opening time. */
export function periodsOnDay(windows: readonly LocalWindow[], day: number): Period[] {
  const wd = isoWeekday(day);
  const out: Period[] = [];
  for (const w of windows) {
    if (!w.days.includes(wd)) continue;
    out.push({ open: localInstant(day, minutesOf(w.from)), close: localInstant(w.crossesMidnight ? day + 1 : day, minutesOf(w.to)) });
  }
  return out.sort((a, b) => a.open - b.open);
}

/**
 * The periods of a set of windows in opening order, from local day `fromDay` on. Lazy: a device
 * asks for the next period as its clock reaches it. A device keeps one for each rule with windows,
 * so the day's periods are kept flat, two doubles each (open, close) from `head` on, not as one
 * object per period with its two numbers boxed (46 bytes a PSEM bracelet, bench/model-memory.bench.ts).
 */
export class Periods {
  private day: number;
  private queue: number[] = [];
  private head = 0;

  constructor(private readonly windows: readonly LocalWindow[], fromDay: number) {
    this.day = fromDay;
  }

  /** When the next period opens (Infinity when the windows are empty). */
  nextOpen(): number {
    return this.fill() ? (this.queue[this.head] as number) : Infinity;
  }

  /** When the next period closes (Infinity when the windows are empty). */
  nextClose(): number {
    return this.fill() ? (this.queue[this.head + 1] as number) : Infinity;
  }

  /** Drops the next period. */
  pop(): void {
    if (this.fill()) this.head += 2;
  }

  /** Drops periods that closed at or before t; returns when the first still open or to come opens. */
  skipClosed(t: number): number {
    while (this.nextClose() <= t) this.pop();
    return this.nextOpen();
  }

  /** Makes sure a period is at `head`, a day at a time; false when the windows are empty. */
  private fill(): boolean {
    if (this.windows.length === 0) return false;
    while (this.head >= this.queue.length) {
      const day = periodsOnDay(this.windows, this.day++);
      const flat = new Array<number>(2 * day.length);
      day.forEach((p, i) => {
        flat[2 * i] = p.open;
        flat[2 * i + 1] = p.close;
      });
      this.queue = flat;
      this.head = 0;
    }
    return true;
  }
}
