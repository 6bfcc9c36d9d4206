/**
 * A wearer's days in local time: where they mean to be, and when they set off. Nights at home, work
 * on weekdays for those with a job, errands; never out during their curfew or inclusion window
 * unless a planned violation (an override) says so.
 *
 * Two streams, merged: the base routine (one local day at a time) and overrides — intervals when
 * the wearer is somewhere else (a violation, a BAR approach) or stays put (a BAR victim while the
 * perpetrator approaches). An override takes precedence; when it ends the wearer heads for wherever
 * the base routine says they should be by then. Everything is lazy: a device holds about a day.
 */
import type { LatLon } from './geo.ts';
import { isoWeekday, localInstant } from './localtime.ts';
import { poissonCount, type Rng } from './random.ts';
import { exactCopy } from './exact-copy.ts';

export interface RoutineProfile {
  readonly home: LatLon;
  /** Workplace, for wearers with a job. */
  readonly work?: LatLon;
  /** ISO weekdays of work (Monday = 1). */
  readonly workDays: readonly number[];
  /** Habitual local times, minutes after midnight. */
  readonly leaveMin: number;
  readonly workEndMin: number;
  /** Never out before this (after the curfew or inclusion window ends) … */
  readonly earliestOutMin: number;
  /** … and back home by this (before it starts), unless violating. */
  readonly homeByMin: number;
  /** Errands, family, friends: where errands and violations take the wearer. */
  readonly places: readonly LatLon[];
  /** Mean errands on a day without work. */
  readonly errandsPerDay: number;
}

/** Where a packed profile keeps its numbers (packRoutine); the places' lat, lon pairs follow. */
const HOME = 0;
const WORK = 2;
const LEAVE = 4;
const WORK_END = 5;
const EARLIEST_OUT = 6;
const HOME_BY = 7;
const ERRANDS = 8;
const PLACES = 9;

/**
 * A profile as one array of doubles: a device model keeps its wearer's profile for the whole run,
 * and the plan's is an object with a LatLon object per place, each with its two numbers boxed:
 * ~200 bytes a wearer less packed, measured (bench/model-memory.bench.ts, docs/PERFORMANCE.md). Its
 * places are made afresh when read, which the routine and the violations do a few times a day.
 */
class PackedRoutine implements RoutineProfile {
  constructor(private readonly v: readonly number[], readonly workDays: readonly number[]) {}

  private at(i: number): LatLon {
    return { lat: this.v[i] as number, lon: this.v[i + 1] as number };
  }

  get home(): LatLon {
    return this.at(HOME);
  }

  get work(): LatLon | undefined {
    return Number.isNaN(this.v[WORK]) ? undefined : this.at(WORK);
  }

  get leaveMin(): number {
    return this.v[LEAVE] as number;
  }

  get workEndMin(): number {
    return this.v[WORK_END] as number;
  }

  get earliestOutMin(): number {
    return this.v[EARLIEST_OUT] as number;
  }

  get homeByMin(): number {
    return this.v[HOME_BY] as number;
  }

  get errandsPerDay(): number {
    return this.v[ERRANDS] as number;
  }

  get places(): readonly LatLon[] {
    return Array.from({ length: (this.v.length - PLACES) / 2 }, (_, k) => this.at(PLACES + 2 * k));
  }
}

/** The same profile, packed for a device model to keep (PackedRoutine). */
export function packRoutine(p: RoutineProfile): RoutineProfile {
  const v = new Array<number>(PLACES + 2 * p.places.length);
  v[HOME] = p.home.lat;
  v[HOME + 1] = p.home.lon;
  v[WORK] = p.work?.lat ?? NaN;
  v[WORK + 1] = p.work?.lon ?? NaN;
  v[LEAVE] = p.leaveMin;
  v[WORK_END] = p.workEndMin;
  v[EARLIEST_OUT] = p.earliestOutMin;
  v[HOME_BY] = p.homeByMin;
  v[ERRANDS] = p.errandsPerDay;
  p.places.forEach((q, k) => {
    v[PLACES + 2 * k] = q.lat;
    v[PLACES + 2 * k + 1] = q.lon;
  });
  return new PackedRoutine(v, p.workDays);
}

/** Set off for `place` at `at`, at `kmh` (else a speed by distance, see mobility.ts). */
export interface PlaceStep {
  readonly at: number;
  readonly place: LatLon;
  readonly kmh?: number;
}

/**
 * Set off for the point `km` from `centre` on the ray from `centre` through where the wearer is
 * when the ray is `fresh`ly drawn (later steps reuse it): a BAR approach runs straight at the victim.
 */
export interface RayStep {
  readonly at: number;
  readonly ray: { readonly centre: LatLon; readonly km: number; readonly fresh: boolean };
  readonly kmh?: number;
}

export type Step = PlaceStep | RayStep;

/** [from, to): the steps (at ≥ from, < to) replace the base routine; no steps: stay put. */
export interface Override {
  readonly from: number;
  readonly to: number;
  readonly steps: readonly Step[];
}

const WORK_ERRAND_CHANCE = 0.35;

/**
 * The base routine, one local day at a time, from its own random stream.
 *
 * The day's steps still to come are kept as three doubles each (when, then the place's lat, lon) in
 * one array, and a step is made when it is taken: as objects, each with its time boxed, and a place
 * object with its two numbers boxed, they were ~300 bytes of a live device, ~120 so (issue 7,
 * docs/PERFORMANCE.md).
 */
export class BaseRoutine {
  private day: number;
  private steps: number[] = [];
  /** Index in `steps` of the next step's time. */
  private next = 0;
  private place: LatLon;

  constructor(private readonly p: RoutineProfile, private readonly r: Rng, firstDay: number) {
    this.day = firstDay;
    this.place = p.home;
  }

  /** When the next step sets off. */
  nextAt(): number {
    while (this.next === this.steps.length) {
      this.steps = packSteps(this.plan(this.day++));
      this.next = 0;
    }
    return this.steps[this.next] as number;
  }

  /** Takes the next step. */
  pop(): PlaceStep {
    const at = this.nextAt();
    const i = this.next;
    this.next += 3;
    this.place = { lat: this.steps[i + 1] as number, lon: this.steps[i + 2] as number };
    return { at, place: this.place };
  }

  /** Where the routine means the wearer to be just before t (t never goes back). */
  placeBefore(t: number): LatLon {
    while (this.nextAt() < t) this.pop();
    return this.place;
  }

  private plan(day: number): PlaceStep[] {
    const { p, r } = this;
    // Read once a day: a packed profile makes its places afresh at each read (PackedRoutine), and
    // the day's steps home share one.
    const { home, work, places } = p;
    const at = (min: number): number => localInstant(day, min);
    // A no-op most nights (already home): it guarantees every day has a step, so lazy readers advance.
    const steps: PlaceStep[] = [{ at: at(4 * 60), place: home }];
    const out = p.earliestOutMin;
    const back = p.homeByMin - 30; // latest departure home
    if (work && p.workDays.includes(isoWeekday(day))) {
      const leave = clamp(p.leaveMin + r.normal() * 10, out, back - 240);
      let end = clamp(p.workEndMin + r.normal() * 15, leave + 180, back);
      steps.push({ at: at(leave), place: work });
      if (places.length > 0 && r.chance(WORK_ERRAND_CHANCE) && end + 60 <= back) {
        steps.push({ at: at(end), place: r.pick(places) });
        end = Math.min(back, end + r.between(30, 60));
      }
      steps.push({ at: at(end), place: home });
      return steps;
    }
    const k = Math.min(3, poissonCount(r, p.errandsPerDay));
    const lo = Math.max(out, 9 * 60 + 30);
    if (k === 0 || places.length === 0 || back - lo < 60) return steps;
    const slot = (back - lo) / k;
    for (let i = 0; i < k; i++) {
      const stay = Math.min(r.between(25, 90), slot - 10);
      if (stay < 25) continue;
      const depart = lo + i * slot + r.between(0, slot - stay);
      steps.push({ at: at(depart), place: r.pick(places) }, { at: at(depart + stay), place: home });
    }
    return steps;
  }
}

/** A day's steps as BaseRoutine keeps them: when, lat, lon, for each, in an array of exactly that. */
function packSteps(steps: readonly PlaceStep[]): number[] {
  const v = new Array<number>(3 * steps.length);
  steps.forEach((s, k) => {
    v[3 * k] = s.at;
    v[3 * k + 1] = s.place.lat;
    v[3 * k + 2] = s.place.lon;
  });
  return v;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}

/** A chunk of overrides, sorted, and a floor: no later chunk has an override starting before it. */
export type OverrideChunk = { readonly items: readonly Override[]; readonly floor: number };

/**
 * Overrides in order of `from`, produced lazily in chunks (a day, a curfew period, an approach) by
 * each device type's subclass (violations.ts). A subclass rather than a producer closure handed
 * in: a device keeps one, and a closure with its context and the options it captured cost 165
 * bytes more in a PSEM bracelet (bench/model-memory.bench.ts).
 */
export abstract class OverrideQueue {
  private queue: Override[] = [];
  private floor = -Infinity;

  /** The next chunk. */
  protected abstract produce(): OverrideChunk;

  /** The next override if it starts by `limit`. */
  peek(limit: number): Override | undefined {
    while (this.queue.length === 0 && this.floor <= limit) {
      const c = this.produce();
      this.queue = exactCopy(c.items);
      this.floor = c.floor;
    }
    const o = this.queue[0];
    return o !== undefined && o.from <= limit ? o : undefined;
  }

  pop(): void {
    this.queue.shift();
  }
}

/** The merged stream of steps a trajectory follows (mobility.ts). */
export class PlaceTimeline {
  private basePlace: LatLon;
  private current: Override | undefined;
  private stepIndex = 0;
  private lastEnd = -Infinity;

  constructor(private readonly base: BaseRoutine, private readonly overrides: OverrideQueue | undefined, home: LatLon) {
    this.basePlace = home;
  }

  next(): Step {
    for (;;) {
      const nextAt = this.base.nextAt();
      const ov = this.current;
      if (ov !== undefined) {
        const step = ov.steps[this.stepIndex];
        if (step !== undefined && step.at <= nextAt) {
          this.stepIndex++;
          return step;
        }
        if (ov.to <= nextAt) {
          this.current = undefined;
          return { at: ov.to, place: this.basePlace };
        }
        this.basePlace = this.base.pop().place; // suppressed, but remembered
        continue;
      }
      const o = this.overrides?.peek(nextAt);
      if (o !== undefined) {
        this.overrides?.pop();
        if (o.from >= this.lastEnd) {
          this.current = o;
          this.stepIndex = 0;
          this.lastEnd = o.to;
        }
        continue;
      }
      const nb = this.base.pop();
      this.basePlace = nb.place;
      return nb;
    }
  }
}
