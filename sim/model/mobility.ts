/**
 * A wearer's movement: stays at places (home, errands, and for some wearers their exclusion zone)
 * joined by straight legs at walking or driving speed. The trajectory is generated lazily from the
 * wearer's own random stream, so position(t) is a pure function of (seed, wearer, t).
 */
import { distanceKm, lerp, pointNear, type LatLon } from './geo.ts';
import type { Rng } from './random.ts';
import { TIME } from './defaults.ts';

export interface MobilityProfile {
  readonly home: LatLon;
  /** Centre of the wearer's exclusion zone: where a violation takes them. */
  readonly zoneCentre: LatLon;
  /** Errands happen within this distance of home. */
  readonly errandRadiusKm: number;
  /** Probability that a trip goes into the exclusion zone. */
  readonly zoneVisitChance: number;
  /** Mean stay at a place (exponential), ms. */
  readonly meanStayMs: number;
}

interface Waypoint {
  readonly at: number;
  readonly pos: LatLon;
}

const WALK_KMH = 5;
const DRIVE_KMH = 30;
const MIN_STAY_MS = 5 * TIME.MINUTE;
/** How far inside the zone a visit goes: the zone is a 400 m square, see wearers.ts. */
const ZONE_VISIT_RADIUS_KM = 0.08;

export class Trajectory {
  private readonly points: Waypoint[] = [];
  private place: LatLon;

  constructor(private readonly profile: MobilityProfile, private readonly r: Rng, start: number) {
    this.place = profile.home;
    // Start mid-stay at home, so the fleet does not leave home in step.
    this.points.push({ at: start - r.between(0, profile.meanStayMs), pos: this.place });
    this.points.push({ at: start + r.between(0, profile.meanStayMs), pos: this.place });
  }

  private extendPast(t: number): void {
    while ((this.points[this.points.length - 1] as Waypoint).at <= t) this.addTrip();
  }

  private nextPlace(): LatLon {
    const p = this.profile;
    if (this.r.chance(p.zoneVisitChance)) return pointNear(p.zoneCentre, 0, ZONE_VISIT_RADIUS_KM, this.r);
    if (this.place !== p.home && this.r.chance(0.6)) return p.home;
    return pointNear(p.home, 0.3, p.errandRadiusKm, this.r);
  }

  /** Appends one leg (travel) and the stay at its end. */
  private addTrip(): void {
    const last = this.points[this.points.length - 1] as Waypoint;
    const to = this.nextPlace();
    const km = distanceKm(this.place, to);
    const kmh = km < 1.5 ? WALK_KMH : DRIVE_KMH;
    const arrive = last.at + Math.max(TIME.MINUTE, (km / kmh) * TIME.HOUR);
    const stay = MIN_STAY_MS - Math.log(1 - this.r.next()) * this.profile.meanStayMs;
    this.points.push({ at: arrive, pos: to }, { at: arrive + stay, pos: to });
    this.place = to;
  }

  /** Index i with points[i].at ≤ t < points[i+1].at. */
  private segment(t: number): number {
    this.extendPast(t);
    // Positions are asked in increasing time; drop what is far behind to bound memory.
    while (this.points.length > 8 && (this.points[2] as Waypoint).at <= t) this.points.shift();
    let i = this.points.length - 2;
    while (i > 0 && (this.points[i] as Waypoint).at > t) i--;
    return i;
  }

  positionAt(t: number): LatLon {
    const i = this.segment(t);
    const a = this.points[i] as Waypoint;
    const b = this.points[i + 1] as Waypoint;
    if (t <= a.at) return a.pos;
    return lerp(a.pos, b.pos, (t - a.at) / (b.at - a.at));
  }

  /** True while on a leg between two different places. */
  isMoving(t: number): boolean {
    const i = this.segment(t);
    const a = this.points[i] as Waypoint;
    const b = this.points[i + 1] as Waypoint;
    return a.pos !== b.pos && t >= a.at;
  }

  /** When the current stay began (t itself while moving). */
  stillSince(t: number): number {
    return this.isMoving(t) ? t : (this.points[this.segment(t)] as Waypoint).at;
  }

  /** The next time ≥ t at which the wearer is moving (the accelerometer's wake-up). */
  nextMoveAt(t: number): number {
    if (this.isMoving(t)) return t;
    return (this.points[this.segment(t) + 1] as Waypoint).at;
  }
}
