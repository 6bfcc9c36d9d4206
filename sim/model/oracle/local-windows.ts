/**
 * Local-time windows (curfews, inclusion-zone windows) as instants: docs/RULES.md "Local-time
 * windows". Written for the oracle, separately from the pipeline's own window logic.
 *
 * Only the zone's offsets come from luxon (the IANA rules); turning a local wall time into an
 * instant is done here, because luxon's own choice differs from RULES.md on both DST nights (it
 * moves a nonexistent 02:30 to 03:30 and picks the later of two 02:30s), while RULES.md says:
 * nonexistent → the first instant after the gap (03:00), ambiguous → the earlier instant.
 */
import { IANAZone } from 'luxon';
import type { Window } from '../../../protocol/provisioning.ts';

const DAY = 86_400_000;
const MINUTE = 60_000;

/** One occurrence of a window: open for instants `open ≤ t < close` (RULES.md). */
export interface Interval {
  readonly open: number;
  readonly close: number;
}

/** A time zone's calendar: local days and wall times ↔ instants. */
export class LocalTime {
  private readonly zone: IANAZone;
  private readonly midnights = new Map<number, number>();

  constructor(name: string) {
    this.zone = IANAZone.create(name);
    if (!this.zone.isValid) throw new Error(`oracle: unknown time zone "${name}"`);
  }

  /** Offset of local time from UTC at instant t, in ms. */
  offsetMs(t: number): number {
    return this.zone.offset(t) * MINUTE;
  }

  /** The local calendar day of instant t, as days since 1970-01-01 (local). */
  dayOf(t: number): number {
    return Math.floor((t + this.offsetMs(t)) / DAY);
  }

  /**
   * The instant of a local wall time, given as ms since 1970-01-01T00:00 local.
   * RULES.md: a wall time that exists twice is the earlier instant; one that does not exist (the
   * spring-forward gap) is the first instant after the gap.
   */
  instantOf(wall: number): number {
    // The offsets in force a day either side; Europe/Paris changes at most once within two days.
    const before = this.offsetMs(wall - DAY);
    const after = this.offsetMs(wall + DAY);
    let best = Number.POSITIVE_INFINITY;
    for (const off of [before, after]) {
      const t = wall - off;
      if (t + this.offsetMs(t) === wall && t < best) best = t; // ambiguous: keep the earlier
    }
    if (best !== Number.POSITIVE_INFINITY) return best;
    if (before === after) throw new Error(`oracle: no instant for local wall time ${wall}`);
    // In the gap: the transition instant lies in (wall − after, wall − before]; the first instant
    // whose offset is the new one is "the first instant after the gap".
    let lo = wall - after;
    let hi = wall - before;
    const old = this.offsetMs(lo);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offsetMs(mid) === old) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** The instant local day `day` starts (midnight is never in a Paris DST gap). */
  startOfDay(day: number): number {
    let t = this.midnights.get(day);
    if (t === undefined) {
      t = this.instantOf(day * DAY);
      if (this.midnights.size >= 64) this.midnights.delete(this.midnights.keys().next().value as number);
      this.midnights.set(day, t);
    }
    return t;
  }
}

/** ISO weekday (Monday = 1 … Sunday = 7) of a day counted from 1970-01-01, a Thursday. */
export function isoWeekday(day: number): number {
  return (((day + 3) % 7) + 7) % 7 + 1;
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * A set of windows (one device's curfews, or one zone's windows). Shared between devices with the
 * same windows; caches the occurrences of the few local days in use.
 */
export class WindowSchedule {
  private readonly byDay = new Map<number, readonly Interval[]>();

  constructor(private readonly windows: readonly Window[], readonly local: LocalTime) {}

  /** The occurrences that open on local day `day` (RULES.md: open at `from` on D, close at `to` on D or D + 1). */
  openingOn(day: number): readonly Interval[] {
    let out = this.byDay.get(day);
    if (out !== undefined) return out;
    const wd = isoWeekday(day);
    const list: Interval[] = [];
    for (const w of this.windows) {
      if (!w.days.includes(wd)) continue;
      const open = this.local.instantOf(day * DAY + minutesOf(w.from) * MINUTE);
      const close = this.local.instantOf((w.crossesMidnight ? day + 1 : day) * DAY + minutesOf(w.to) * MINUTE);
      // Both ends in the same spring gap (e.g. 02:10 → 02:40) leave nothing open.
      if (close > open) list.push({ open, close });
    }
    out = list;
    if (this.byDay.size >= 16) this.byDay.delete(this.byDay.keys().next().value as number);
    this.byDay.set(day, out);
    return out;
  }
}

const NONE: readonly Interval[] = [];

/**
 * One device's view of a schedule: which occurrences are open at t. Remembers the span around the
 * last answer in which the answer cannot change, so a device's records cost O(1) between window
 * edges and local midnights.
 */
export class WindowCursor {
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  private current: readonly Interval[] = NONE;

  constructor(private readonly schedule: WindowSchedule) {}

  /** The occurrences open at t (`open ≤ t < close`), earliest-opened first. */
  at(t: number): readonly Interval[] {
    if (t >= this.lo && t < this.hi) return this.current;
    const local = this.schedule.local;
    const day = local.dayOf(t);
    // An occurrence open at t opened on day D or D − 1: one of D − 2 has closed by the end of
    // D − 1 (`to` ≤ 23:59), one of D + 1 opens at or after the start of D + 1.
    let lo = local.startOfDay(day);
    let hi = local.startOfDay(day + 1);
    const open: Interval[] = [];
    for (const d of [day - 1, day]) {
      for (const iv of this.schedule.openingOn(d)) {
        for (const edge of [iv.open, iv.close]) {
          if (edge <= t) lo = Math.max(lo, edge);
          else hi = Math.min(hi, edge);
        }
        if (iv.open <= t && t < iv.close) open.push(iv);
      }
    }
    open.sort((a, b) => a.open - b.open || a.close - b.close);
    this.lo = lo;
    this.hi = hi;
    this.current = open.length === 0 ? NONE : open;
    return this.current;
  }
}
