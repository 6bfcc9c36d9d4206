/**
 * Geography of the pure model: French cities, points around them, zones, GPS noise.
 * Geodesy comes from @turf (well-kept, pure JS, runs in k6 too).
 */
import bearing from '@turf/bearing';
import destination from '@turf/destination';
import distance from '@turf/distance';
import { point } from '@turf/helpers';
import { orient2d } from 'robust-predicates';
import type { Rng } from './random.ts';

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

/**
 * Large French cities where wearers live: city-centre coordinates (WGS84, good to ~0.01°; homes are
 * drawn 0.5–8 km around them). A fixed table keeps the model pure and a scenario's seed meaningful.
 */
export const CITIES: Readonly<Record<string, LatLon>> = {
  paris: { lat: 48.8566, lon: 2.3522 },
  marseille: { lat: 43.2965, lon: 5.3698 },
  lyon: { lat: 45.764, lon: 4.8357 },
  toulouse: { lat: 43.6047, lon: 1.4442 },
  nice: { lat: 43.7102, lon: 7.262 },
  nantes: { lat: 47.2184, lon: -1.5536 },
  montpellier: { lat: 43.6108, lon: 3.8767 },
  strasbourg: { lat: 48.5734, lon: 7.7521 },
  bordeaux: { lat: 44.8378, lon: -0.5792 },
  lille: { lat: 50.6292, lon: 3.0573 },
  rennes: { lat: 48.1173, lon: -1.6778 },
  reims: { lat: 49.2583, lon: 4.0317 },
  toulon: { lat: 43.1242, lon: 5.928 },
  'saint-etienne': { lat: 45.4397, lon: 4.3872 },
  'le-havre': { lat: 49.4944, lon: 0.1079 },
  grenoble: { lat: 45.1885, lon: 5.7245 },
  dijon: { lat: 47.322, lon: 5.0415 },
  angers: { lat: 47.4784, lon: -0.5632 },
  nimes: { lat: 43.8367, lon: 4.3601 },
  villeurbanne: { lat: 45.7719, lon: 4.8902 },
  'clermont-ferrand': { lat: 45.7772, lon: 3.087 },
  'le-mans': { lat: 48.0061, lon: 0.1996 },
  rouen: { lat: 49.4432, lon: 1.0999 },
};
export type CityName = keyof typeof CITIES;

/** The point `km` kilometres from `from` at `bearingDeg` (degrees clockwise from north). */
export function offset(from: LatLon, km: number, bearingDeg: number): LatLon {
  const [lon, lat] = destination(point([from.lon, from.lat]), km, bearingDeg, { units: 'kilometers' }).geometry.coordinates as [number, number];
  return { lat, lon };
}

/** A point at a uniformly random bearing and a distance between minKm and maxKm from `from`. */
export function pointNear(from: LatLon, minKm: number, maxKm: number, r: Rng): LatLon {
  return offset(from, r.between(minKm, maxKm), r.between(0, 360));
}

/** Great-circle distance (turf's haversine on a sphere of radius 6,371,008.8 m, as docs/RULES.md). */
export function distanceKm(a: LatLon, b: LatLon): number {
  return distance(point([a.lon, a.lat]), point([b.lon, b.lat]), { units: 'kilometers' });
}

/** Initial bearing from `a` to `b`, degrees clockwise from north. */
export function bearingDeg(a: LatLon, b: LatLon): number {
  return bearing(point([a.lon, a.lat]), point([b.lon, b.lat]));
}

/** Linear interpolation; at city scale (a few km) the error against a great circle is centimetres. */
export function lerp(a: LatLon, b: LatLon, f: number): LatLon {
  return { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f };
}

/** A closed GeoJSON ring ([lon, lat] corners) of a square of side `sideM` metres centred on `c`. */
export function squareRing(c: LatLon, sideM: number): [number, number][] {
  const half = (sideM / 2) * Math.SQRT2 / 1000;
  const corners = [45, 135, 225, 315].map((b) => offset(c, half, b));
  const ring = corners.map((p): [number, number] => [p.lon, p.lat]);
  ring.push(ring[0] as [number, number]);
  return ring;
}

/**
 * Whether (x, y) is inside a closed ring or on its boundary. The ring is flat in `shape` from index
 * `from` to the end: x0, y0, x1, y1, …, x0, y0.
 *
 * This is point-in-polygon-hao's algorithm (what turf's booleanPointInPolygon runs), step for step,
 * with its robust orientation test from robust-predicates, so it gives turf's answer for every
 * point (geo.test.ts checks it against turf). It is written out here only for the ring's shape:
 * the library wants an array per corner, and a fleet holds two zones per PSEM bracelet, so a flat
 * array of doubles saves ~520 bytes of heap per zone (issue 7's memory bar; docs/PERFORMANCE.md).
 */
export function insideFlatRing(shape: readonly number[], from: number, x: number, y: number): boolean {
  const end = shape.length - 2;
  if (end < from + 2) throw new RangeError('a ring needs at least two corners');
  if (shape[from] !== shape[end] && shape[from + 1] !== shape[end + 1]) throw new RangeError('the first and last corners of a ring must be the same');
  let crossings = 0;
  let u1 = (shape[from] as number) - x;
  let v1 = (shape[from + 1] as number) - y;
  for (let i = from + 2; i <= end; i += 2) {
    const u2 = (shape[i] as number) - x;
    const v2 = (shape[i + 1] as number) - y;
    if (v1 === 0 && v2 === 0) {
      if ((u2 <= 0 && u1 >= 0) || (u1 <= 0 && u2 >= 0)) return true;
    } else if ((v2 >= 0 && v1 <= 0) || (v2 <= 0 && v1 >= 0)) {
      const f = orient2d(u1, u2, v1, v2, 0, 0);
      if (f === 0) return true;
      if ((f > 0 && v2 > 0 && v1 <= 0) || (f < 0 && v2 <= 0 && v1 > 0)) crossings++;
    }
    u1 = u2;
    v1 = v2;
  }
  return crossings % 2 === 1;
}

/**
 * GPS noise: each axis normal with σ metres. Radial p90 of a 2-D normal is σ·√(2 ln 10) ≈ 2.15σ,
 * so σ = 4 m gives ≈ 8.6 m at p90, inside DOMAIN.md's "position error, open sky ≤ 10 m at p90".
 */
export const GPS_SIGMA_M = 4;

/** A coordinate as a fix carries it: 6 decimal places (about 0.1 m). */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function withNoise(p: LatLon, r: Rng, sigmaM = GPS_SIGMA_M): LatLon {
  const dn = r.normal() * sigmaM;
  const de = r.normal() * sigmaM;
  const mPerDegLat = 111_320;
  const mPerDegLon = 111_320 * Math.cos((p.lat * Math.PI) / 180);
  return { lat: p.lat + dn / mPerDegLat, lon: p.lon + de / mPerDegLon };
}
