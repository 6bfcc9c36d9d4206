/**
 * exclusion_zone_entry, exactly as docs/RULES.md states it: a state machine per (device, zone) that
 * starts outside; an inside position while outside raises one alarm and goes inside; a position not
 * inside goes back outside without an alarm. Only position records reach this (heartbeats and events
 * do not change zone state). Written from RULES.md, independently of the oracle in sim/model.
 */
import { positionInRing, type CompiledRing } from '../geometry.ts';

export interface Zone {
  readonly zoneId: string;
  readonly ring: CompiledRing;
}

/** zoneId → inside, for one device; a zone absent from the map is outside (the initial state). */
export type ZoneStates = Map<string, boolean>;

export interface ZoneChange {
  readonly zoneId: string;
  /** The new state. */
  readonly inside: boolean;
  /** True on an entry: raise exclusion_zone_entry for this record. */
  readonly alarm: boolean;
}

/** Evaluates one position record against a device's zones; updates `states` and returns what changed. */
export function evaluatePosition(lat: number, lon: number, zones: readonly Zone[], states: ZoneStates): ZoneChange[] {
  const changes: ZoneChange[] = [];
  for (const z of zones) {
    const inside = positionInRing(lat, lon, z.ring);
    const was = states.get(z.zoneId) ?? false;
    if (inside === was) continue;
    states.set(z.zoneId, inside);
    changes.push({ zoneId: z.zoneId, inside, alarm: inside });
  }
  return changes;
}
