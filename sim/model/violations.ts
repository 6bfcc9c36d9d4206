/**
 * Planned violations, as overrides of a wearer's routine (routine.ts), at the rates of their
 * Behaviour (behaviour.ts). Each device type has its OverrideQueue subclass; each draws from its own stream.
 *
 * - PSE: around each curfew period, a late return (still out when it starts) or absences (leaving
 *   home during it).
 * - PSEM: daytime visits into the exclusion zone; at night, a late return into the home inclusion
 *   zone or a night out.
 * - BAR: the pair's approach schedule, shared by both units (each derives it from the pair's seed):
 *   the perpetrator runs straight at the victim's place, through the pre-alert ring (2A) into the
 *   alert ring (A) or stopping short in the pre-alert ring, waits, backs off and goes home; the
 *   victim stays where she is meanwhile, so the geometry is the one planned.
 */
import { pointNear, type LatLon } from './geo.ts';
import { localInstant, minutesOf, periodsOnDay, type LocalWindow } from './localtime.ts';
import { nextPoisson, poissonCount, type Rng } from './random.ts';
import { OverrideQueue, type Override, type OverrideChunk, type RoutineProfile } from './routine.ts';
import type { Behaviour } from './behaviour.ts';
import { TIME } from './defaults.ts';

const { MINUTE, HOUR } = TIME;
const DAY = 24 * HOUR;

/** Periods opening per week, so that a per-day rate becomes a per-period one. */
function periodsPerWeek(windows: readonly LocalWindow[]): number {
  return windows.reduce((n, w) => n + w.days.length, 0);
}

/**
 * `k` stays in [lo, hi] (as many as fit), one per equal slot, each `minMs`–`maxMs` plus `slackMs`
 * to travel back.
 */
function spread(r: Rng, k: number, lo: number, hi: number, minMs: number, maxMs: number, slackMs: number): [number, number][] {
  const out: [number, number][] = [];
  k = Math.min(k, Math.floor((hi - lo) / (minMs + slackMs)));
  if (k <= 0) return out;
  const slot = (hi - lo) / k;
  for (let i = 0; i < k; i++) {
    const dur = Math.min(r.between(minMs, maxMs), slot - slackMs);
    if (dur < minMs) continue;
    const from = Math.round(lo + i * slot + r.between(0, slot - dur - slackMs));
    out.push([from, from + Math.round(dur)]);
  }
  return out;
}

/** PSE: late returns and absences, one local day's curfew periods per chunk. */
export class PseOverrides extends OverrideQueue {
  private day: number;
  private readonly perPeriod: number;
  private readonly earliestFrom: number;

  constructor(
    private readonly curfews: readonly LocalWindow[], private readonly routine: RoutineProfile, private readonly b: Behaviour, private readonly r: Rng, firstDay: number,
  ) {
    super();
    this.day = firstDay;
    this.perPeriod = 7 / Math.max(1, periodsPerWeek(curfews));
    this.earliestFrom = Math.min(...curfews.map((w) => minutesOf(w.from)));
  }

  protected produce(): OverrideChunk {
    const { b, r, perPeriod } = this;
    // Read once: a packed profile makes its places afresh at each read (routine.ts PackedRoutine).
    const places = this.routine.places;
    const items: Override[] = [];
    for (const p of periodsOnDay(this.curfews, this.day)) {
      let lo = p.open + 10 * MINUTE;
      if (places.length > 0 && r.chance(Math.min(1, b.lateReturnsPerDay * perPeriod))) {
        const from = Math.round(p.open - r.between(20, 90) * MINUTE);
        const to = Math.round(p.open + r.between(10, 90) * MINUTE);
        items.push({ from, to, steps: [{ at: from, place: r.pick(places) }] });
        lo = to + 30 * MINUTE;
      }
      const k = places.length > 0 ? poissonCount(r, b.curfewAbsencesPerDay * perPeriod) : 0;
      for (const [from, to] of spread(r, k, lo, p.close - 20 * MINUTE, 15 * MINUTE, 90 * MINUTE, 35 * MINUTE)) {
        items.push({ from, to, steps: [{ at: from, place: r.pick(places) }] });
      }
    }
    this.day++;
    return { items, floor: localInstant(this.day, this.earliestFrom) - 2 * HOUR };
  }
}

export interface PsemZonesPlan {
  /** Centre of the exclusion zone: a visit goes within 80 m of it (the zone is a 400 m square). */
  readonly exclusionCentre: LatLon;
  /** Windows of the home inclusion zone. */
  readonly inclusionWindows: readonly LocalWindow[];
}

const ZONE_VISIT_RADIUS_KM = 0.08;
const LATE_RETURN_SHARE = 0.4;

/**
 * PSEM: a local day's exclusion-zone visits, then the night's inclusion violations, per chunk. The
 * zone's centre is kept as its two numbers: the plan that held it is dropped once the fleet is built.
 */
export class PsemOverrides extends OverrideQueue {
  private day: number;
  private readonly perPeriod: number;
  private readonly exclusionLat: number;
  private readonly exclusionLon: number;
  private readonly inclusionWindows: readonly LocalWindow[];

  constructor(zones: PsemZonesPlan, private readonly routine: RoutineProfile, private readonly b: Behaviour, private readonly r: Rng, firstDay: number) {
    super();
    this.day = firstDay;
    this.perPeriod = 7 / Math.max(1, periodsPerWeek(zones.inclusionWindows));
    this.exclusionLat = zones.exclusionCentre.lat;
    this.exclusionLon = zones.exclusionCentre.lon;
    this.inclusionWindows = zones.inclusionWindows;
  }

  protected produce(): OverrideChunk {
    const { routine, b, r, day } = this;
    const places = routine.places; // read once, as above
    const items: Override[] = [];
    // Daytime visits: up to 30 min to get there from wherever, then 5–30 min inside.
    const lo = localInstant(day, routine.earliestOutMin + 60);
    const hi = localInstant(day, routine.homeByMin - 60);
    const visits = spread(r, poissonCount(r, b.exclusionEntriesPerDay), lo, hi, 35 * MINUTE, 60 * MINUTE, 30 * MINUTE);
    if (visits.length > 0) {
      const centre = { lat: this.exclusionLat, lon: this.exclusionLon };
      for (const [from, to] of visits) items.push({ from, to, steps: [{ at: from, place: pointNear(centre, 0, ZONE_VISIT_RADIUS_KM, r) }] });
    }
    if (places.length > 0) {
      for (const p of periodsOnDay(this.inclusionWindows, day)) {
        let k = poissonCount(r, b.inclusionExitsPerDay * this.perPeriod);
        let lo2 = p.open + 10 * MINUTE;
        if (k > 0 && r.chance(LATE_RETURN_SHARE)) {
          const from = Math.round(p.open - r.between(20, 60) * MINUTE);
          const to = Math.round(p.open + r.between(10, 90) * MINUTE);
          items.push({ from, to, steps: [{ at: from, place: r.pick(places) }] });
          lo2 = to + 30 * MINUTE;
          k--;
        }
        for (const [from, to] of spread(r, k, lo2, p.close - 30 * MINUTE, 20 * MINUTE, 120 * MINUTE, 30 * MINUTE)) {
          items.push({ from, to, steps: [{ at: from, place: r.pick(places) }] });
        }
      }
    }
    this.day++;
    return { items, floor: localInstant(this.day, routine.earliestOutMin) };
  }
}

/** What both units of a pair know of it. */
export interface PairPlan {
  readonly pairId: string;
  readonly alertKm: number;
  /** Distance between the two homes, km: far enough that daily life never comes near 2A. */
  readonly separationKm: number;
  /** How far from home either wearer's routine goes, km. */
  readonly reachKm: number;
}

/** Separation of a pair's homes: 2A plus both reaches plus a wide margin (see approach geometry below). */
export function pairSeparationKm(alertKm: number, reachKm: number): number {
  return 2 * alertKm + 2 * reachKm + 20;
}

export interface Approach {
  /** The perpetrator sets off. */
  readonly from: number;
  /** He is back outside 2A and heads home. */
  readonly to: number;
  /** Where he stops, km from the victim: < A (alert) or in (A, 2A) (pre-alert only). */
  readonly stopKm: number;
  /** He starts the final approach from 2A + 1 km. */
  readonly finalAt: number;
  /** He backs off. */
  readonly retreatAt: number;
}

const APPROACH_KMH = 30;
const ROAD_KMH = 60;
/** The victim stays put from this long before he sets off (any leg of hers is over by then). */
export const VICTIM_HOLD_BEFORE_MS = 45 * MINUTE;
const VICTIM_HOLD_AFTER_MS = 15 * MINUTE;
const MIN_GAP_MS = 75 * MINUTE;

/**
 * The pair's approaches, from the pair's own stream (both units build the same). Timings come from
 * the pair's constants only, so the victim's unit knows them without the perpetrator's routine:
 * he gets to 2A + 1 km within `finalAt` (an upper bound of the drive; early, he waits there), runs
 * in at 30 km/h (so each 1 km of ring takes ≥ 2 min: at least one 60 s fix inside it), waits
 * 5–30 min, backs off to 2A + 1 km, and leaves. Approaches are spaced so that the mean gap is
 * 1/rate while one never overlaps the next.
 */
export class ApproachSchedule {
  private last: Approach | undefined;

  constructor(private readonly pair: PairPlan, private readonly b: Behaviour, private readonly r: Rng, private readonly start: number) {}

  next(): Approach {
    const { pair, b, r } = this;
    const rate = b.barApproachesPerDay + b.barPreAlertStopsPerDay;
    if (!(rate > 0)) return { from: Infinity, to: Infinity, stopKm: 0, finalAt: Infinity, retreatAt: Infinity };
    let from: number;
    if (this.last === undefined) {
      from = Math.round(nextPoisson(r, this.start, rate));
    } else {
      const busy = this.last.to - this.last.from + MIN_GAP_MS;
      from = Math.round(nextPoisson(r, this.last.to + MIN_GAP_MS, DAY / Math.max(DAY / rate - busy, 30 * MINUTE)));
    }
    const a = pair.alertKm;
    const stagingKm = 2 * a + 1;
    const full = r.chance(b.barApproachesPerDay / rate);
    const stopKm = full ? r.between(0.2, 0.8) * a : r.between(1.2, 1.8) * a;
    const drive = ((pair.separationKm + 2 * pair.reachKm - stagingKm) / ROAD_KMH) * HOUR;
    const runIn = ((stagingKm - stopKm) / APPROACH_KMH) * HOUR;
    const finalAt = Math.round(from + drive);
    const retreatAt = Math.round(finalAt + runIn + r.between(5, 30) * MINUTE);
    const to = Math.round(retreatAt + runIn + 2 * MINUTE);
    this.last = { from, to, stopKm, finalAt, retreatAt };
    return this.last;
  }
}

/** The perpetrator's overrides; `victimPlace(t)` is where the victim's routine holds her from t. */
export class PerpetratorOverrides extends OverrideQueue {
  constructor(private readonly schedule: ApproachSchedule, private readonly alertKm: number, private readonly victimPlace: (t: number) => LatLon) {
    super();
  }

  protected produce(): OverrideChunk {
    const ap = this.schedule.next();
    if (ap.from === Infinity) return { items: [], floor: Infinity };
    const centre = this.victimPlace(ap.from - VICTIM_HOLD_BEFORE_MS);
    const stagingKm = 2 * this.alertKm + 1;
    return {
      items: [{
        from: ap.from,
        to: ap.to,
        steps: [
          { at: ap.from, ray: { centre, km: stagingKm, fresh: true }, kmh: ROAD_KMH },
          { at: ap.finalAt, ray: { centre, km: ap.stopKm, fresh: false }, kmh: APPROACH_KMH },
          { at: ap.retreatAt, ray: { centre, km: stagingKm, fresh: false }, kmh: APPROACH_KMH },
        ],
      }],
      floor: ap.to + MIN_GAP_MS,
    };
  }
}

/** The victim's overrides: she stays where she is around each approach. */
export class VictimOverrides extends OverrideQueue {
  constructor(private readonly schedule: ApproachSchedule) {
    super();
  }

  protected produce(): OverrideChunk {
    const ap = this.schedule.next();
    if (ap.from === Infinity) return { items: [], floor: Infinity };
    return {
      items: [{ from: ap.from - VICTIM_HOLD_BEFORE_MS, to: ap.to + VICTIM_HOLD_AFTER_MS, steps: [] }],
      floor: ap.to + MIN_GAP_MS - VICTIM_HOLD_BEFORE_MS,
    };
  }
}
