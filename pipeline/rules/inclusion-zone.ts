/**
 * inclusion_zone_exit, exactly as docs/RULES.md states it: a state per (device, zone) that starts
 * compliant. For each position record, in seq order: a zone that does not apply at the record's
 * device time (it has windows and none is open) makes the state compliant, so each window starts
 * afresh; applying and inside (boundary counts) is compliant; applying, outside and compliant raises
 * one alarm and the state becomes violating. A wearer already outside when a window opens is alarmed
 * at the first position inside the window. Written from RULES.md, independently of sim/model.
 */
import { positionInRing, type CompiledRing } from '../geometry.ts';
import type { Schedule } from './windows.ts';

export interface InclusionZone {
  readonly zoneId: string;
  readonly ring: CompiledRing;
  /** When the zone applies; null: always (a zone without windows). */
  readonly schedule: Schedule | null;
}

/** zoneId → violating, for one device; a zone absent from the map is compliant (the initial state). */
export type InclusionStates = Map<string, boolean>;

export interface InclusionChange {
  readonly zoneId: string;
  /** The new state. */
  readonly violating: boolean;
  /** True when this record raises inclusion_zone_exit. */
  readonly alarm: boolean;
}

/** Evaluates one position record against a device's inclusion zones; updates `states` and returns what changed. */
export function evaluateInclusion(lat: number, lon: number, time: number, zones: readonly InclusionZone[], states: InclusionStates): InclusionChange[] {
  const changes: InclusionChange[] = [];
  for (const z of zones) {
    const applies = z.schedule === null || z.schedule.periodAt(time) !== null;
    const violating = applies && !positionInRing(lat, lon, z.ring);
    const was = states.get(z.zoneId) ?? false;
    if (violating === was) continue;
    states.set(z.zoneId, violating);
    changes.push({ zoneId: z.zoneId, violating, alarm: violating });
  }
  return changes;
}
