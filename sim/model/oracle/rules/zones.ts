/**
 * exclusion_zone_entry and inclusion_zone_exit (docs/RULES.md "PSEM"). Position records only.
 * Geometry is @turf's (a different implementation from the pipeline's, on purpose): planar
 * point-in-polygon on the [lon, lat] ring, the boundary counting as inside.
 */
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { polygon as turfPolygon } from '@turf/helpers';
import type { Feature, Point, Polygon } from 'geojson';
import type { Zone } from '../../../../protocol/provisioning.ts';
import type { PositionRecord } from '../../../../protocol/uplink.ts';
import { atRecord, type Expectation } from '../expectation.ts';
import { WindowCursor, type WindowSchedule } from '../local-windows.ts';

export function zoneShape(z: Zone): Feature<Polygon> {
  return turfPolygon([z.polygon.map(([lon, lat]) => [lon, lat])]);
}

/** RULES.md: "inside the zone polygon or on its boundary". */
export function isInside(p: Feature<Point>, shape: Feature<Polygon>): boolean {
  return booleanPointInPolygon(p, shape, { ignoreBoundary: false });
}

/** One (device, zone): the state RULES.md keeps per pair, and the zone's windows seen by this device. */
export class ZoneRule {
  /** exclusion: *inside*; inclusion: *violating*. Both start false (*outside*, *compliant*). */
  private flagged = false;
  private readonly windows: WindowCursor | undefined;

  constructor(readonly zoneId: string, readonly kind: Zone['kind'], private readonly shape: Feature<Polygon>, schedule: WindowSchedule | undefined) {
    this.windows = schedule && new WindowCursor(schedule);
  }

  observe(r: PositionRecord, p: Feature<Point>): Expectation | undefined {
    if (this.kind === 'exclusion') {
      // An entry while *outside* raises; every position not inside sets *outside* again, so GPS
      // noise at the edge raises once per re-entry.
      const inside = isInside(p, this.shape);
      const entered = inside && !this.flagged;
      this.flagged = inside;
      return entered ? { ...atRecord(r, 'exclusion_zone_entry'), zoneId: this.zoneId } : undefined;
    }
    // Inclusion: a zone with windows applies only while one is open at the record's device time;
    // a record outside every window resets to *compliant* ("each window starts afresh").
    if (this.windows && this.windows.at(r.time).length === 0) {
      this.flagged = false;
      return undefined;
    }
    if (isInside(p, this.shape)) {
      this.flagged = false;
      return undefined;
    }
    if (this.flagged) return undefined;
    // Already outside when the window opened: alarmed at the first position inside the window.
    this.flagged = true;
    return { ...atRecord(r, 'inclusion_zone_exit'), zoneId: this.zoneId };
  }
}
