/**
 * A wearer's movement: stays at places joined by straight legs, following the steps of their
 * routine (routine.ts). Generated lazily, so position(t) is a pure function of (seed, wearer, t)
 * and a device holds a handful of waypoints. Times asked must not go back (much): old waypoints
 * are dropped.
 */
import { bearingDeg, distanceKm, lerp, offset, type LatLon } from './geo.ts';
import type { Step } from './routine.ts';
import { TIME } from './defaults.ts';

const WALK_KMH = 5;
const CITY_KMH = 30;
const ROAD_KMH = 60;

/** Walking under 1.5 km, city driving under 10 km, roads beyond. */
export function travelMs(from: LatLon, to: LatLon, kmh?: number): number {
  const km = distanceKm(from, to);
  const speed = kmh ?? (km < 1.5 ? WALK_KMH : km < 10 ? CITY_KMH : ROAD_KMH);
  return Math.max(TIME.MINUTE, Math.round((km / speed) * TIME.HOUR));
}

export interface StepSource {
  next(): Step;
}

/** A waypoint's three doubles in `Trajectory.points`: when, and where. */
const AT = 0;
const LAT = 1;
const LON = 2;
const STRIDE = 3;

export class Trajectory {
  /**
   * The waypoints, three doubles each (at, lat, lon). Stays are two waypoints at one place
   * (arrival, departure); legs join different places. The last is open-ended.
   *
   * Flat, and rebuilt at its exact size at each change, because a fleet holds one per wearer:
   * an object per waypoint with its time and place as boxed numbers, in an array `push` had grown,
   * was ~560 bytes of a PSEM bracelet's ~4,600 (bench/model-memory.bench.ts, docs/PERFORMANCE.md).
   * A change comes a few times a day per wearer, so the copies cost nothing that shows.
   */
  private points: number[];
  private lastStepAt: number;
  private rayBearing = 0;

  /** The wearer is at `home` at `origin` (a night), before the first step. */
  constructor(private readonly steps: StepSource, private readonly home: LatLon, origin: number) {
    this.points = [origin, home.lat, home.lon];
    this.lastStepAt = origin;
  }

  private get count(): number {
    return this.points.length / STRIDE;
  }

  private at(i: number): number {
    return this.points[i * STRIDE + AT] as number;
  }

  private pos(i: number): LatLon {
    return { lat: this.points[i * STRIDE + LAT] as number, lon: this.points[i * STRIDE + LON] as number };
  }

  private isAt(i: number, p: LatLon): boolean {
    return this.points[i * STRIDE + LAT] === p.lat && this.points[i * STRIDE + LON] === p.lon;
  }

  /** Whether waypoints i and j are at one place. */
  private samePlace(i: number, j: number): boolean {
    return this.points[i * STRIDE + LAT] === this.points[j * STRIDE + LAT] && this.points[i * STRIDE + LON] === this.points[j * STRIDE + LON];
  }

  /** The first `keep` waypoints, then `more` (flat), in a new array of exactly that size. */
  private rebuild(keep: number, more: readonly number[]): void {
    const head = keep * STRIDE;
    const next = new Array<number>(head + more.length);
    for (let k = 0; k < head; k++) next[k] = this.points[k] as number;
    for (let k = 0; k < more.length; k++) next[head + k] = more[k] as number;
    this.points = next;
  }

  private consume(): void {
    const s = this.steps.next();
    this.lastStepAt = s.at;
    this.apply(s);
  }

  private apply(s: Step): void {
    const n = this.count;
    const last = n - 1;
    const prev = n - 2;
    const midLeg = prev >= 0 && this.at(last) > s.at;
    const here = midLeg ? lerp(this.pos(prev), this.pos(last), (s.at - this.at(prev)) / (this.at(last) - this.at(prev))) : this.pos(last);
    let target: LatLon;
    if ('place' in s) {
      target = s.place;
    } else {
      if (s.ray.fresh) this.rayBearing = bearingDeg(s.ray.centre, here);
      target = offset(s.ray.centre, s.ray.km, this.rayBearing);
    }
    if (this.isAt(last, target)) return; // already there or on the way
    let keep = n;
    const more: number[] = [];
    if (midLeg) {
      keep = n - 1;
      if (s.at > this.at(prev)) more.push(s.at, here.lat, here.lon); // turned round mid-leg
    } else if (this.at(last) < s.at) {
      more.push(s.at, here.lat, here.lon); // end of the stay
    }
    const from = more.length > 0 ? here : this.pos(keep - 1);
    more.push(s.at + travelMs(from, target, s.kmh), target.lat, target.lon);
    this.rebuild(keep, more);
  }

  /** Applies every step up to t, and the first one after it (which may cut the current leg short after t). */
  private extendPast(t: number): void {
    while (this.lastStepAt <= t) this.consume();
  }

  /** Index i with points[i].at ≤ t < points[i+1].at (or the last, open-ended stay). */
  private segment(t: number): number {
    this.extendPast(t);
    let i = this.count - 1;
    while (i > 0 && this.at(i) > t) i--;
    if (i > 4) {
      this.points = this.points.slice((i - 1) * STRIDE); // exactly the rest
      i = 1;
    }
    return i;
  }

  positionAt(t: number): LatLon {
    const i = this.segment(t);
    if (i + 1 >= this.count || t <= this.at(i)) return this.pos(i);
    return lerp(this.pos(i), this.pos(i + 1), (t - this.at(i)) / (this.at(i + 1) - this.at(i)));
  }

  /** True while on a leg between two different places. */
  isMoving(t: number): boolean {
    const i = this.segment(t);
    return i + 1 < this.count && t >= this.at(i) && !this.samePlace(i, i + 1);
  }

  /** When the current stay began (t itself while moving). */
  stillSince(t: number): number {
    return this.isMoving(t) ? t : this.at(this.segment(t));
  }

  /** The next time ≥ t at which the wearer is moving (the accelerometer's wake-up). */
  nextMoveAt(t: number): number {
    if (this.isMoving(t)) return t;
    const i = this.segment(t);
    while (this.count - 1 <= i) this.consume();
    return this.at(i + 1);
  }

  private homeOn(i: number): boolean {
    return this.isAt(i, this.home) && (i + 1 >= this.count || this.isAt(i + 1, this.home));
  }

  /** True while staying at home (the PSE home unit hears the bracelet). */
  atHome(t: number): boolean {
    return this.homeOn(this.segment(t));
  }

  /**
   * The next time after t at which atHome changes, or a time within `horizonMs` to look again
   * (a wearer may stay home for days).
   */
  nextHomeChangeAfter(t: number, horizonMs = 24 * TIME.HOUR): number {
    const now = this.atHome(t);
    let i = this.segment(t);
    for (;;) {
      while (this.count - 1 <= i) {
        if (this.lastStepAt > t + horizonMs) return this.lastStepAt;
        this.consume();
      }
      i++;
      if (this.homeOn(i) !== now) return this.at(i);
    }
  }
}
