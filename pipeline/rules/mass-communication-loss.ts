/**
 * mass_communication_loss and mass_communication_recovery, exactly as docs/RULES.md states them: per
 * mobile operator, with N devices provisioned on it, K = max(minDevices, ⌈share × N⌉) and S = its
 * devices with a communication_loss open. S ≥ K with no mass alarm open raises the loss (seq = the
 * operator's outage ordinal in the run); while open, S ≤ ⌊K / 2⌋ raises the recovery with the same
 * seq. K > N never fires. The engine calls `evaluateMass` whenever S changes, in the same transaction.
 * Written from RULES.md, independently of the oracle in sim/model.
 */
import type { FleetAlarmKind } from '../../protocol/alarms.ts';

export interface MassThreshold {
  readonly share: number;
  readonly minDevices: number;
}

/**
 * K. ⌈share × N⌉ is the ceiling of the exact decimal product: the float product is rounded to 6
 * decimal places first, so 0.07 × 100 is 7, not 7.000000000000001 (RULES.md).
 */
export function massThreshold(n: number, t: MassThreshold): number {
  return Math.max(t.minDevices, Math.ceil(Math.round(t.share * n * 1e6) / 1e6));
}

export interface MassState {
  /** Devices provisioned with the operator (N). */
  readonly devices: number;
  /** K. */
  readonly threshold: number;
  /** S: the operator's devices with a communication_loss open. */
  silent: number;
  /** A mass_communication_loss is open (raised, its recovery not yet). */
  open: boolean;
  /** Outages raised so far in this run: the seq of the latest mass_communication_loss, 0 before any. */
  ordinal: number;
}

export function newMassState(devices: number, t: MassThreshold): MassState {
  return { devices, threshold: massThreshold(devices, t), silent: 0, open: false, ordinal: 0 };
}

export interface MassAlarm {
  readonly kind: FleetAlarmKind;
  /** The outage's ordinal for the operator (1, 2, …); a recovery carries the loss's. */
  readonly seq: number;
}

/** Applies the rule to the current S; the alarm to raise (and the state moved), or null. */
export function evaluateMass(s: MassState): MassAlarm | null {
  if (!s.open) {
    if (s.threshold > s.devices || s.silent < s.threshold) return null;
    s.open = true;
    s.ordinal++;
    return { kind: 'mass_communication_loss', seq: s.ordinal };
  }
  if (s.silent > Math.floor(s.threshold / 2)) return null;
  s.open = false;
  return { kind: 'mass_communication_recovery', seq: s.ordinal };
}
