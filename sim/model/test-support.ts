/** Helpers for the model's tests: run planned devices offline and read what they recorded. */
import type { PositionRecord, UplinkRecord } from '../../protocol/uplink.ts';
import { DEFAULT_BEHAVIOUR, type Behaviour } from './behaviour.ts';
import { DEVICE_DEFAULTS } from './defaults.ts';
import { createFirmware, planFleet, type FleetPlan, type PlannedDevice } from './fleet-plan.ts';
import type { FleetMix } from './fleet-mix.ts';

export const HOUR = 3_600_000;

/** No incidents, no violations: what a quiet wearer's devices do. */
export const QUIET: Behaviour = Object.fromEntries(Object.keys(DEFAULT_BEHAVIOUR).map((k) => [k, 0])) as unknown as Behaviour;

export function plan(seed: number, mix: Partial<FleetMix>, behaviour: Behaviour, start: number): FleetPlan {
  return planFleet({ seed, mix: { pse: 0, psem: 0, bar: 0, ...mix }, cities: ['paris', 'lyon'], behaviour, start });
}

/** Every record the device makes from `start` for `hours`, its link down (nothing acked). */
export function recordsOf(d: PlannedDevice, seed: number, start: number, hours: number): UplinkRecord[] {
  const fw = createFirmware(d, seed, start, { ...DEVICE_DEFAULTS });
  const end = start + hours * HOUR;
  fw.stopRecordingAfter(end);
  const out: UplinkRecord[] = [];
  for (let t = fw.nextWakeAt(); t <= end; t = fw.nextWakeAt()) fw.wake(t, false, (r) => out.push(r));
  return out;
}

export function eventsOf(records: readonly UplinkRecord[], event?: string): UplinkRecord[] {
  return records.filter((r) => r.type === 'event' && (event === undefined || r.event === event));
}

export function positionsOf(records: readonly UplinkRecord[]): PositionRecord[] {
  return records.filter((r): r is PositionRecord => r.type === 'position');
}
