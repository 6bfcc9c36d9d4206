/**
 * The oracle: which alarms must follow from what each device did and reported.
 *
 * Written from docs/RULES.md, separately from the reference pipeline's rules (pipeline/rules/) and
 * never sharing code with them: two independent implementations that agree alarm by alarm are
 * evidence; one shared implementation would agree with itself and prove nothing (DESIGN.md).
 * It also uses a different geometry (@turf) from the pipeline's hand-written ray casting.
 *
 * Streaming: the fleet hands it every record a device makes, in seq order, as it is made.
 */
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { polygon as turfPolygon, point } from '@turf/helpers';
import type { Feature, Polygon } from 'geojson';
import type { AlarmKind } from '../../../protocol/alarms.ts';
import type { UplinkRecord } from '../../../protocol/uplink.ts';

export interface Expectation {
  readonly deviceId: string;
  readonly kind: AlarmKind;
  /** Seq of the triggering record (communication_loss: the last record before the silence). */
  readonly seq: number;
  /** Device time of that record. */
  readonly deviceTime: number;
  /** When the alarm became due: the latency clock starts here (docs/RULES.md "Trigger time"). */
  readonly triggerTime: number;
  readonly zoneId?: string;
}

export interface OracleZone {
  readonly zoneId: string;
  readonly deviceId: string;
  /** Closed GeoJSON ring, [lon, lat]. */
  readonly ring: readonly (readonly [number, number])[];
}

interface DeviceState {
  lastSeq: number;
  lastTime: number;
  readonly zones: { readonly zoneId: string; readonly shape: Feature<Polygon>; inside: boolean }[];
}

/** The stable identity of an alarm: docs/RULES.md "(device, kind, triggering seq)", and the zone. */
export function alarmKey(a: { deviceId: string; kind: string; seq: number; zoneId?: string | undefined }): string {
  return `${a.deviceId}|${a.kind}|${a.seq}|${a.zoneId ?? ''}`;
}

export class Oracle {
  private readonly devices = new Map<string, DeviceState>();

  constructor(zones: readonly OracleZone[], private readonly offlineTimeoutMs: number) {
    for (const z of zones) {
      const d = this.device(z.deviceId);
      d.zones.push({ zoneId: z.zoneId, shape: turfPolygon([z.ring.map(([lon, lat]) => [lon, lat])]), inside: false });
    }
  }

  private device(id: string): DeviceState {
    let d = this.devices.get(id);
    if (!d) {
      d = { lastSeq: 0, lastTime: Number.NaN, zones: [] };
      this.devices.set(id, d);
    }
    return d;
  }

  /** One record, in the device's seq order; returns the alarms it makes due. */
  observe(r: UplinkRecord): Expectation[] {
    const d = this.device(r.device);
    if (r.seq !== d.lastSeq + 1) {
      throw new Error(`oracle: ${r.device} seq ${r.seq} after ${d.lastSeq}: records must come in seq order, once each`);
    }
    const out: Expectation[] = [];
    // communication_loss: a silence longer than the offline timeout between two of the device's
    // own records (RULES.md: trigger time = L + offlineTimeoutMs).
    if (d.lastSeq > 0 && r.time - d.lastTime > this.offlineTimeoutMs) {
      out.push({
        deviceId: r.device, kind: 'communication_loss', seq: d.lastSeq, deviceTime: d.lastTime,
        triggerTime: d.lastTime + this.offlineTimeoutMs,
      });
    }
    d.lastSeq = r.seq;
    d.lastTime = r.time;
    if (r.type !== 'position') return out;
    const p = point([r.lon, r.lat]);
    for (const z of d.zones) {
      // RULES.md: inside or on the boundary counts as inside.
      const inside = booleanPointInPolygon(p, z.shape, { ignoreBoundary: false });
      if (inside && !z.inside) {
        out.push({ deviceId: r.device, kind: 'exclusion_zone_entry', seq: r.seq, deviceTime: r.time, triggerTime: r.time, zoneId: z.zoneId });
      }
      z.inside = inside;
    }
    return out;
  }
}
