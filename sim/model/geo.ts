/**
 * Geography of the pure model: French cities, points around them, zones, GPS noise.
 * Geodesy comes from @turf (well-kept, pure JS, runs in k6 too).
 */
import destination from '@turf/destination';
import distance from '@turf/distance';
import { point } from '@turf/helpers';
import type { Rng } from './random.ts';

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

/**
 * A few French cities where wearers live (centre coordinates, WGS84). A short fixed table keeps the
 * model pure and the scenario's seed meaningful; issue 3 widens the set.
 */
export const CITIES: Readonly<Record<string, LatLon>> = {
  paris: { lat: 48.8566, lon: 2.3522 },
  marseille: { lat: 43.2965, lon: 5.3698 },
  lyon: { lat: 45.764, lon: 4.8357 },
  toulouse: { lat: 43.6047, lon: 1.4442 },
  lille: { lat: 50.6292, lon: 3.0573 },
  bordeaux: { lat: 44.8378, lon: -0.5792 },
  nantes: { lat: 47.2184, lon: -1.5536 },
  strasbourg: { lat: 48.5734, lon: 7.7521 },
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

export function distanceKm(a: LatLon, b: LatLon): number {
  return distance(point([a.lon, a.lat]), point([b.lon, b.lat]), { units: 'kilometers' });
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
 * GPS noise: each axis normal with σ metres. Radial p90 of a 2-D normal is σ·√(2 ln 10) ≈ 2.15σ,
 * so σ = 4 m gives ≈ 8.6 m at p90, inside DOMAIN.md's "position error, open sky ≤ 10 m at p90".
 */
export const GPS_SIGMA_M = 4;

export function withNoise(p: LatLon, r: Rng, sigmaM = GPS_SIGMA_M): LatLon {
  const dn = r.normal() * sigmaM;
  const de = r.normal() * sigmaM;
  const mPerDegLat = 111_320;
  const mPerDegLon = 111_320 * Math.cos((p.lat * Math.PI) / 180);
  return { lat: p.lat + dn / mPerDegLat, lon: p.lon + de / mPerDegLon };
}
