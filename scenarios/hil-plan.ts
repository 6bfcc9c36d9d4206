/**
 * A wearer for every real device of the scenario's `hil` section, out of the scenario's own plan
 * (sim/model/fleet-plan.ts), before any port opens:
 *
 * - `wearer: 'PSEM-00003'` (or `pairWith: 'BAR-V-00002'` for a BAR perpetrator): the real device
 *   takes that planned wearer's place — the virtual device leaves the fleet, and its provisioning
 *   (zones, the BAR pair) now names the real device's id;
 * - otherwise Vigil plans a new wearer for it (in `wearer.city`, default the scenario's first city)
 *   from a seed of its own, with its zones (a PSEM) or a new pair whose victim unit is virtual and
 *   joins the fleet (a BAR perpetrator).
 *
 * The ids are fixed by the scenario, not by the hardware — `HIL-PSEM-1`, `HIL-BAR-P-2` by position in
 * `hil` — so faults can target a real device (`target.devices`) and everything is checked before
 * a port opens; the device's serial number is in run.json beside its id. The pipeline is provisioned
 * with the real device like a virtual one, so it evaluates its zones and its pair.
 */
import { VigilError } from '../protocol/errors.ts';
import { ringCentre } from '../protocol/provisioning.ts';
import type { HilMatch } from '../hil/api.ts';
import type { HilStimulusStep } from '../hil/stimulus.ts';
import type { Visit } from '../hil/wearer.ts';
import { planFleet, type FleetPlan, type FleetProvisioning, type PlannedBarPerpetrator, type PlannedDevice, type PlannedPsem } from '../sim/model/fleet-plan.ts';
import type { CityName } from '../sim/model/geo.ts';
import { localDay } from '../sim/model/localtime.ts';
import { rng } from '../sim/model/random.ts';
import { BaseRoutine } from '../sim/model/routine.ts';
import type { HilMode, HilRole, TimedHilEntry } from './hil-schema.ts';
import type { Scenario } from './schema.ts';

export interface HilDevicePlan {
  /** Its place in the scenario's `hil` (after `--hil` devices are appended). */
  readonly index: number;
  readonly deviceId: string;
  readonly role: HilRole;
  readonly mode: HilMode;
  readonly match: HilMatch;
  /** The planned wearer, under the real device's id. */
  readonly wearer: PlannedPsem | PlannedBarPerpetrator;
  /** The planned wearer it took over, when the scenario named one. */
  readonly tookOver?: string | undefined;
  /** A BAR perpetrator's pair and (virtual) victim unit. */
  readonly pairId?: string | undefined;
  readonly victimId?: string | undefined;
  /** `enterZone` stimuli, as visits the trajectory makes. */
  readonly visits: readonly Visit[];
  readonly stimulus: readonly HilStimulusStep[];
}

export function hilDeviceId(role: HilRole, index: number): string {
  return `${role === 'psem' ? 'HIL-PSEM' : 'HIL-BAR-P'}-${index + 1}`;
}

/** Replaces every string equal to a key of `ids` in plain data (planned devices and provisioning are plain data). */
function renamed<T>(x: T, ids: ReadonlyMap<string, string>): T {
  if (typeof x === 'string') return (ids.get(x) ?? x) as T;
  if (Array.isArray(x)) return x.map((v: unknown) => renamed(v, ids)) as T;
  if (typeof x === 'object' && x !== null) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, renamed(v, ids)])) as T;
  }
  return x;
}

/** The plan with the real devices in it: the virtual fleet (without the wearers they took over) and every device's provisioning. */
export function planHil(scenario: Scenario, plan: FleetPlan, file: string): { plan: FleetPlan; hil: HilDevicePlan[] } {
  if (scenario.hil.length === 0) return { plan, hil: [] };
  let devices: PlannedDevice[] = plan.devices;
  let prov: FleetProvisioning = plan.provisioning;
  const taken: HilDevicePlan[] = [];
  scenario.hil.forEach((entry, index) => {
    const deviceId = hilDeviceId(entry.role, index);
    const takeOver = typeof entry.wearer === 'string' ? entry.wearer : entry.pairWith !== undefined ? `BAR-P-${entry.pairWith.slice(-5)}` : undefined;
    let wearer: PlannedPsem | PlannedBarPerpetrator;
    if (takeOver !== undefined) {
      const found = devices.find((d) => d.deviceId === takeOver);
      if (found === undefined) {
        const field = typeof entry.wearer === 'string' ? 'wearer' : 'pairWith';
        const sample = devices.filter((d) => d.type === entry.role).slice(0, 2).map((d) => d.deviceId).join(', ') || `none: the fleet has no ${entry.role}`;
        throw new VigilError('VIGIL_SCENARIO_INVALID', `scenario ${file}: hil.${index}.${field}: no planned wearer ${takeOver} in this fleet (ids look like ${sample})`, `name a planned wearer, or leave hil.${index}.${field} out for a new one`);
      }
      const ids = new Map([[takeOver, deviceId]]);
      devices = renamed(devices.filter((d) => d !== found), ids);
      prov = renamed(prov, ids);
      wearer = renamed(found, ids) as PlannedPsem | PlannedBarPerpetrator;
    } else {
      const fresh = newWearer(scenario, entry, index, deviceId);
      wearer = fresh.wearer;
      devices = [...devices, ...fresh.virtual];
      prov = {
        devices: [...prov.devices, ...fresh.provisioning.devices], zones: [...prov.zones, ...fresh.provisioning.zones],
        curfews: [...prov.curfews, ...fresh.provisioning.curfews], barPairs: [...prov.barPairs, ...fresh.provisioning.barPairs],
      };
    }
    const pair = wearer.type === 'bar_perpetrator' ? wearer.pair : undefined;
    taken.push({
      index, deviceId, role: entry.role, mode: entry.mode, match: entry.device, wearer, tookOver: takeOver,
      pairId: pair?.pairId, victimId: pair?.victimId, visits: visitsOf(entry, index, wearer, prov, scenario, file), stimulus: entry.stimulus,
    });
  });
  return { plan: { ...plan, devices, provisioning: prov }, hil: taken };
}

/**
 * A wearer planned for the device alone: a fleet of one (a PSEM, or a BAR pair) from a seed of its
 * own, so it is nobody else's twin, with its ids renamed to the real device's.
 */
function newWearer(scenario: Scenario, entry: TimedHilEntry, index: number, deviceId: string): { wearer: PlannedPsem | PlannedBarPerpetrator; virtual: PlannedDevice[]; provisioning: FleetProvisioning } {
  const city = (typeof entry.wearer === 'object' ? entry.wearer.city : undefined) ?? (scenario.cities[0] as CityName);
  const seed = rng(scenario.seed, 'hil', deviceId).uint32();
  const psem = entry.role === 'psem';
  const one = planFleet({ seed, mix: { pse: 0, psem: psem ? 1 : 0, bar: psem ? 0 : 1 }, cities: [city], behaviour: scenario.rates, start: scenario.start });
  const ids = new Map(psem
    ? [['PSEM-00001', deviceId], ['Z-X-PSEM-00001', `Z-X-${deviceId}`], ['Z-I-PSEM-00001', `Z-I-${deviceId}`]]
    : [['BAR-P-00001', deviceId], ['BAR-V-00001', `BAR-V-HIL${index + 1}`], ['BAR-00001', `BAR-HIL${index + 1}`]]);
  const planned = renamed(one.devices, ids);
  const wearer = planned.find((d) => d.deviceId === deviceId) as PlannedPsem | PlannedBarPerpetrator;
  return { wearer, virtual: planned.filter((d) => d !== wearer), provisioning: renamed(one.provisioning, ids) };
}

/**
 * Each `enterZone` as a visit to the middle of one of the device's own zones; each `approachVictim`
 * as a visit to where the victim's routine has her then (drawn as her virtual unit draws it:
 * sim/model/fleet-plan.ts createFirmware, the same routine stream).
 */
function visitsOf(entry: TimedHilEntry, index: number, wearer: PlannedPsem | PlannedBarPerpetrator, prov: FleetProvisioning, scenario: Scenario, file: string): Visit[] {
  const deviceId = wearer.deviceId;
  const own = prov.zones.filter((z) => z.deviceId === deviceId);
  return entry.stimulus.flatMap((s, j): Visit[] => {
    if (s.action === 'approachVictim' && wearer.type === 'bar_perpetrator') {
      const victim = new BaseRoutine(wearer.victimRoutine, rng(scenario.seed, 'routine', wearer.pair.victimId), localDay(scenario.start) - 1);
      return [{ from: s.at, stayMs: s.stayMs, place: victim.placeBefore(s.at) }];
    }
    if (s.action !== 'enterZone') return [];
    const zone = own.find((z) => z.zoneId === s.zoneId);
    if (zone === undefined) {
      const list = own.map((z) => `${z.zoneId} (${z.kind})`).join(', ') || 'none';
      throw new VigilError('VIGIL_SCENARIO_INVALID', `scenario ${file}: hil.${index}.stimulus.${j}.enterZone: ${deviceId} has no zone "${s.zoneId}" (its zones: ${list})`, `name one of ${deviceId}'s zones`);
    }
    return [{ from: s.at, stayMs: s.stayMs, place: ringCentre(zone.polygon) }];
  });
}
