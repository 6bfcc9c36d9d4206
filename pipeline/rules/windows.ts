/**
 * Local-time windows (curfews, inclusion-zone windows), exactly as docs/RULES.md "Local-time
 * windows" states them: a window `{ days, from, to, crossesMidnight }` opens at local `from` on each
 * listed ISO weekday D and closes at local `to` on D (or D + 1 when it crosses midnight); it is open
 * for instants `open ≤ t < close`. Local times become instants with the zone's IANA rules (luxon):
 * a local time inside the spring-forward gap means the first instant after the gap, a local time
 * that exists twice (fall-back) means the earlier instant.
 *
 * Written from RULES.md, independently of the oracle in sim/model. The hot path (one lookup per
 * record) hits a small per-schedule cache of local days; the time-zone library is only asked when a
 * record falls on a local day not seen recently.
 */
import { IANAZone } from 'luxon';
import type { Window } from '../../protocol/provisioning.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Local days kept per schedule: records of one run cluster on a day or two (backlogs a few more). */
const CACHED_DAYS = 8;

/** One opening of a window: open ≤ t < close, instants in ms since the epoch. */
export interface Period {
  readonly open: number;
  readonly close: number;
}

interface LocalDay {
  /** First instant of the local day and of the next one. */
  readonly start: number;
  readonly end: number;
  /** Periods that may overlap the day (those opening on it and on the day before), by open time. */
  readonly periods: readonly Period[];
}

/** Wall-clock ms of a local date-time read as if it were UTC ("naive local"). */
type LocalMs = number;

/** `"HH:MM"` → minutes after local midnight. */
function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** The local-time machinery of one IANA zone. */
export class LocalTime {
  private readonly zone: IANAZone;

  constructor(readonly timeZone: string) {
    const zone = IANAZone.create(timeZone);
    if (!zone.isValid) throw new RangeError(`unknown IANA time zone "${timeZone}"`);
    this.zone = zone;
  }

  /** UTC offset in ms at instant `t`. */
  private offset(t: number): number {
    return this.zone.offset(t) * MINUTE;
  }

  /** Local day number (days since 1970-01-01 in local time) of instant `t`. */
  dayOf(t: number): number {
    return Math.floor((t + this.offset(t)) / DAY);
  }

  /**
   * The instant of a local wall-clock time (RULES.md): the only one when it exists once, the earlier
   * of two in the fall-back hour, the first instant after the gap in the spring-forward hour.
   */
  instant(local: LocalMs): number {
    // Any transition near `local` lies between the offsets a day either side of it.
    const before = this.offset(local - DAY);
    const after = this.offset(local + DAY);
    let best = Infinity;
    for (const o of before === after ? [before] : [before, after]) {
      const t = local - o;
      if (this.offset(t) === o && t < best) best = t;
    }
    if (best !== Infinity) return best;
    // In the gap: `local - after` is before the transition, `local - before` after it. The
    // transition instant (whose local reading is the end of the gap) is the first instant after it.
    let lo = local - after;
    let hi = local - before;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offset(mid) === after) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /** The instant of local `minutes` after midnight on local day `day`. */
  at(day: number, minutes: number): number {
    return this.instant(day * DAY + minutes * MINUTE);
  }
}

/** ISO weekday (Monday = 1 … Sunday = 7) of a local day number (day 0, 1970-01-01, was a Thursday). */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** A set of windows in one time zone: answers "which period is open at instant t?". */
export class Schedule {
  private days: LocalDay[] = [];
  private readonly windows: readonly { days: ReadonlySet<number>; from: number; to: number; crossesMidnight: boolean }[];

  constructor(windows: readonly Window[], private readonly local: LocalTime) {
    this.windows = windows.map((w) => ({
      days: new Set(w.days), from: minutesOf(w.from), to: minutesOf(w.to), crossesMidnight: w.crossesMidnight,
    }));
  }

  /** The period open at `t` (the earliest-opening one when windows overlap), or null when none is. */
  periodAt(t: number): Period | null {
    for (const p of this.day(t).periods) if (p.open <= t && t < p.close) return p;
    return null;
  }

  /** The periods that open on local day `day`. */
  periodsOpening(day: number): Period[] {
    const weekday = isoWeekday(day);
    const out: Period[] = [];
    for (const w of this.windows) {
      if (!w.days.has(weekday)) continue;
      out.push({ open: this.local.at(day, w.from), close: this.local.at(w.crossesMidnight ? day + 1 : day, w.to) });
    }
    return out;
  }

  private day(t: number): LocalDay {
    for (const d of this.days) if (d.start <= t && t < d.end) return d;
    const n = this.local.dayOf(t);
    const d: LocalDay = {
      start: this.local.at(n, 0),
      end: this.local.at(n + 1, 0),
      periods: [...this.periodsOpening(n - 1), ...this.periodsOpening(n)].sort((a, b) => a.open - b.open),
    };
    if (this.days.length >= CACHED_DAYS) this.days.shift();
    this.days.push(d);
    return d;
  }
}

/** Schedules shared by every device with the same windows, so their day cache is shared too. */
export class Schedules {
  private readonly byKey = new Map<string, Schedule>();
  private readonly local: LocalTime;

  constructor(timeZone: string) {
    this.local = new LocalTime(timeZone);
  }

  get(windows: readonly Window[]): Schedule {
    const key = JSON.stringify(windows.map((w) => [w.days, w.from, w.to, w.crossesMidnight]));
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = new Schedule(windows, this.local)));
    return s;
  }
}
