/**
 * Point in polygon, planar in degrees (docs/RULES.md "exclusion_zone_entry": GeoJSON ring of
 * [lon, lat], zones are small). Hand-written on purpose: the oracle in sim/model uses @turf, and two
 * independent implementations that agree alarm by alarm are the evidence (DESIGN.md "Two
 * implementations of every rule"). Do not replace this with a library, and never share it with sim/.
 */

export type LonLat = readonly [number, number];

/** A ring prepared once at provisioning: flat coordinates and a bounding box for a cheap reject. */
export interface CompiledRing {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly minX: number;
  readonly maxX: number;
  readonly minY: number;
  readonly maxY: number;
}

/** Accepts a closed ring (last = first, as GeoJSON requires) or an open one; edges wrap around. */
export function compileRing(ring: readonly LonLat[]): CompiledRing {
  const n = ring.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const p = ring[i] as LonLat;
    xs[i] = p[0];
    ys[i] = p[1];
    if (p[0] < minX) minX = p[0];
    if (p[0] > maxX) maxX = p[0];
    if (p[1] < minY) minY = p[1];
    if (p[1] > maxY) maxY = p[1];
  }
  return { xs, ys, minX, maxX, minY, maxY };
}

/** True when (x, y) lies on the segment a–b (exact: collinear and within its box). */
function onSegment(x: number, y: number, ax: number, ay: number, bx: number, by: number): boolean {
  if (x < Math.min(ax, bx) || x > Math.max(ax, bx) || y < Math.min(ay, by) || y > Math.max(ay, by)) return false;
  return (bx - ax) * (y - ay) - (by - ay) * (x - ax) === 0;
}

/**
 * Inside or on the boundary (RULES.md: "on its boundary" counts as inside). Ray casting towards +x:
 * an edge counts when it straddles the horizontal line through the point (half-open in y, so a
 * vertex on the ray is counted once) and crosses it to the right of the point.
 */
export function pointInRing(x: number, y: number, ring: CompiledRing): boolean {
  if (x < ring.minX || x > ring.maxX || y < ring.minY || y > ring.maxY) return false;
  const { xs, ys } = ring;
  const n = xs.length;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = xs[i] as number, yi = ys[i] as number, xj = xs[j] as number, yj = ys[j] as number;
    if (onSegment(x, y, xi, yi, xj, yj)) return true;
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Convenience for a record: `lat`/`lon` in degrees against a ring of [lon, lat]. */
export function positionInRing(lat: number, lon: number, ring: CompiledRing): boolean {
  return pointInRing(lon, lat, ring);
}

/** RULES.md "bar_pre_alert and bar_alert": the sphere the BAR distance is measured on (mean Earth radius, IUGG). */
export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/**
 * Great-circle (haversine) distance in metres between two WGS84 points in degrees, on a sphere of
 * radius EARTH_RADIUS_M. Hand-written for the same reason as the polygon test above.
 */
export function haversineMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}
