/**
 * Faults against a concrete fleet: which devices each fault hits, and when each of them is healed.
 * Resolved before anything starts, so a target that matches no device stops the run naming the
 * field (issue 4 "bad input"). Seeded: the same scenario and seed hit the same devices.
 */
import { VigilError } from '../protocol/errors.ts';
import type { DeviceType } from '../protocol/alarms.ts';
import { rng } from '../sim/model/random.ts';
import { isProcessFault, type TimedFault, type TimedNetworkFault } from './schema.ts';

export interface FleetDevice {
  readonly deviceId: string;
  readonly type: DeviceType;
  readonly operator: string;
}

export interface PlannedFault {
  readonly fault: TimedNetworkFault;
  /** The devices it hits, in fleet order. */
  readonly devices: readonly string[];
  /** Device → virtual ms at which the fault is healed for it (until, or later with `recovery`), capped at the run's end. */
  readonly healAt: ReadonlyMap<string, number>;
  /**
   * An endpoint move: device → virtual ms at which it learns the new address (its cached DNS entry
   * expires), seeded in [from, from + dnsTtl]. Undefined for the other kinds.
   */
  readonly dnsAt?: ReadonlyMap<string, number>;
}

/** Each device's operator, drawn from the operators' shares, keyed by device id (independent of fleet size). */
export function assignOperators(deviceIds: readonly string[], operators: readonly { id: string; share: number }[], seed: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of deviceIds) {
    const u = rng(seed, 'operator', id).next();
    let acc = 0;
    let chosen = (operators.at(-1) as { id: string }).id;
    for (const op of operators) {
      acc += op.share;
      if (u < acc) {
        chosen = op.id;
        break;
      }
    }
    out.set(id, chosen);
  }
  return out;
}

function matchesType(t: DeviceType, want: string | undefined): boolean {
  if (want === undefined) return true;
  if (want === 'bar') return t === 'bar_perpetrator' || t === 'bar_victim';
  return t === want;
}

/**
 * The network faults against the fleet. Process faults (broker or pipeline restart) hit no device
 * and are left out: scenarios/runner/process-faults.ts drives them.
 */
export function planFaults(faults: readonly TimedFault[], fleet: readonly FleetDevice[], seed: number, end: number, file: string): PlannedFault[] {
  const known = new Set(fleet.map((d) => d.deviceId));
  const operators = new Set(fleet.map((d) => d.operator));
  return faults.flatMap((fault, i): PlannedFault[] => {
    if (isProcessFault(fault)) return [];
    const where = `scenario ${file}: faults.${i}.target`;
    const t = fault.target;
    if (t.operator !== undefined && !operators.has(t.operator)) {
      throw new VigilError('VIGIL_SCENARIO_INVALID', `${where}.operator: no device uses operator "${t.operator}" (operators: ${[...operators].join(', ')})`, 'name an operator of network.operators');
    }
    const unknown = (t.devices ?? []).filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new VigilError('VIGIL_SCENARIO_INVALID', `${where}.devices: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''} ${unknown.length === 1 ? 'is' : 'are'} not in the fleet (ids look like ${fleet.slice(0, 2).map((d) => d.deviceId).join(', ')})`, 'fix the device ids, or the fleet size');
    }
    const listed = t.devices ? new Set(t.devices) : undefined;
    let hit = fleet.filter((d) => (t.operator === undefined || d.operator === t.operator) && matchesType(d.type, t.deviceType) && (!listed || listed.has(d.deviceId))).map((d) => d.deviceId);
    if (t.fraction !== undefined && hit.length > 0) {
      // A seeded shuffle, then the first ⌈fraction × n⌉, kept in fleet order.
      const r = rng(seed, 'fault-target', fault.name);
      const keyed = hit.map((id) => ({ id, k: r.next() })).sort((a, b) => a.k - b.k);
      const chosen = new Set(keyed.slice(0, Math.max(1, Math.round(t.fraction * hit.length))).map((x) => x.id));
      hit = hit.filter((id) => chosen.has(id));
    }
    if (hit.length === 0) {
      throw new VigilError('VIGIL_SCENARIO_INVALID', `${where}: ${JSON.stringify(t)} matches no device of this fleet`, 'widen the target, or check deviceType and operator against the fleet');
    }
    const heal = rng(seed, 'fault-heal', fault.name);
    const healAt = new Map(hit.map((id) => [id, Math.min(end, fault.until + (fault.recovery ? Math.round(heal.next() * fault.recovery) : 0))]));
    if (fault.kind !== 'endpoint-move') return [{ fault, devices: hit, healAt }];
    const dns = rng(seed, 'fault-dns', fault.name);
    const dnsAt = new Map(hit.map((id) => [id, fault.from + Math.round(dns.next() * fault.dnsTtl)]));
    return [{ fault, devices: hit, healAt, dnsAt }];
  });
}
