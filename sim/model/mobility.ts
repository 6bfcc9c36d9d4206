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

export function samePlace(a: LatLon, b: LatLon): boolean {
  return a === b || (a.lat === b.lat && a.lon === b.lon);
}

interface Waypoint {
  readonly at: number;
  readonly pos: LatLon;
}

export interface StepSource {
  next(): Step;
}

export class Trajectory {
  /** Stays are two waypoints at one place (arrival, departure); legs join different places. The last is open-ended. */
  private readonly points: Waypoint[];
  private lastStepAt: number;
  private rayBearing = 0;

  /** The wearer is at `home` at `origin` (a night), before the first step. */
  constructor(private readonly steps: StepSource, private readonly home: LatLon, origin: number) {
    this.points = [{ at: origin, pos: home }];
    this.lastStepAt = origin;
  }

  private consume(): void {
    const s = this.steps.next();
    this.lastStepAt = s.at;
    this.apply(s);
  }

  private apply(s: Step): void {
    const n = this.points.length;
    const last = this.points[n - 1] as Waypoint;
    const prev = this.points[n - 2];
    const midLeg = prev !== undefined && last.at > s.at;
    const here = midLeg ? lerp(prev.pos, last.pos, (s.at - prev.at) / (last.at - prev.at)) : last.pos;
    let target: LatLon;
    if ('place' in s) {
      target = s.place;
    } else {
      if (s.ray.fresh) this.rayBearing = bearingDeg(s.ray.centre, here);
      target = offset(s.ray.centre, s.ray.km, this.rayBearing);
    }
    if (samePlace(target, last.pos)) return; // already there or on the way
    if (midLeg) {
      if (s.at <= prev.at) this.points.pop();
      else this.points[n - 1] = { at: s.at, pos: here }; // turned round mid-leg
    } else if (last.at < s.at) {
      this.points.push({ at: s.at, pos: here }); // end of the stay
    }
    const from = this.points[this.points.length - 1] as Waypoint;
    this.points.push({ at: s.at + travelMs(from.pos, target, s.kmh), pos: target });
  }

  /** Applies every step up to t, and the first one after it (which may cut the current leg short after t). */
  private extendPast(t: number): void {
    while (this.lastStepAt <= t) this.consume();
  }

  /** Index i with points[i].at ≤ t < points[i+1].at (or the last, open-ended stay). */
  private segment(t: number): number {
    this.extendPast(t);
    let i = this.points.length - 1;
    while (i > 0 && (this.points[i] as Waypoint).at > t) i--;
    if (i > 4) {
      this.points.splice(0, i - 1);
      i = 1;
    }
    return i;
  }

  positionAt(t: number): LatLon {
    const i = this.segment(t);
    const a = this.points[i] as Waypoint;
    const b = this.points[i + 1];
    if (b === undefined || t <= a.at) return a.pos;
    return lerp(a.pos, b.pos, (t - a.at) / (b.at - a.at));
  }

  /** True while on a leg between two different places. */
  isMoving(t: number): boolean {
    const i = this.segment(t);
    const a = this.points[i] as Waypoint;
    const b = this.points[i + 1];
    return b !== undefined && t >= a.at && !samePlace(a.pos, b.pos);
  }

  /** When the current stay began (t itself while moving). */
  stillSince(t: number): number {
    return this.isMoving(t) ? t : (this.points[this.segment(t)] as Waypoint).at;
  }

  /** The next time ≥ t at which the wearer is moving (the accelerometer's wake-up). */
  nextMoveAt(t: number): number {
    if (this.isMoving(t)) return t;
    const i = this.segment(t);
    while (this.points.length - 1 <= i) this.consume();
    return (this.points[i + 1] as Waypoint).at;
  }

  private homeOn(i: number): boolean {
    const a = this.points[i] as Waypoint;
    const b = this.points[i + 1];
    return samePlace(a.pos, this.home) && (b === undefined || samePlace(b.pos, this.home));
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
      while (this.points.length - 1 <= i) {
        if (this.lastStepAt > t + horizonMs) return this.lastStepAt;
        this.consume();
      }
      i++;
      if (this.homeOn(i) !== now) return (this.points[i] as Waypoint).at;
    }
  }
}
