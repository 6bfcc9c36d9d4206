/**
 * What a run provisions: the fleet the scenario asks for (sim/model/fleet-plan.ts), with the
 * scenario's provisioning changes merged over it by id, validated with the protocol's own schema —
 * before any broker, pipeline or device starts. A bad field stops the run naming the entity, the
 * field, the allowed values and the value given.
 */
import { VigilError } from '../../protocol/errors.ts';
import { Provisioning, type ProvisioningInput } from '../../protocol/provisioning.ts';
import { planFleet, type FleetPlan } from '../../sim/model/fleet-plan.ts';
import type { Scenario } from '../schema.ts';
import { assignOperators, planFaults, type PlannedFault } from '../faults.ts';
import { planHil, type HilDevicePlan } from '../hil-plan.ts';

export interface RunProvisioning {
  readonly plan: FleetPlan;
  /** Everything but runId and clock, validated. */
  readonly fleet: Pick<Provisioning, 'devices' | 'zones' | 'curfews' | 'barPairs' | 'timeZone' | 'offlineTimeoutMs' | 'massCommunicationLoss'>;
  /** The scenario's faults against this fleet: devices hit and heal times. */
  readonly faults: readonly PlannedFault[];
  /** The real devices of the scenario's `hil` section, each with its wearer; they are provisioned, not in `plan.devices`. */
  readonly hil: readonly HilDevicePlan[];
}

type Lists = Required<Pick<ProvisioningInput, 'devices' | 'zones' | 'curfews' | 'barPairs'>>;
const ID_FIELD = { devices: 'deviceId', zones: 'zoneId', curfews: 'deviceId', barPairs: 'pairId' } as const;

/** Merges each change over the generated entry with the same id; an unknown id is an error. */
function mergeChanges(lists: Lists, changes: NonNullable<Scenario['provisioning']>, file: string): Lists {
  const out = { ...lists } as Record<keyof Lists, Record<string, unknown>[]>;
  for (const key of Object.keys(ID_FIELD) as (keyof Lists)[]) {
    const list = changes[key];
    if (!list) continue;
    const idField = ID_FIELD[key];
    out[key] = [...(out[key] as Record<string, unknown>[])];
    list.forEach((change, i) => {
      const id = (change as Record<string, unknown>)[idField];
      const at = out[key].findIndex((e) => e[idField] === id);
      if (at < 0) {
        const sample = out[key].slice(0, 2).map((e) => String(e[idField])).join(', ') || 'none in this fleet';
        throw new VigilError('VIGIL_PROVISIONING_INVALID', `scenario ${file}: provisioning.${key}.${i}.${idField}: no ${key} entry "${String(id)}" in the fleet (ids look like ${sample})`, `fix the id in provisioning.${key}`);
      }
      out[key][at] = { ...out[key][at], ...change };
    });
  }
  return out as unknown as Lists;
}

export function provisionRun(scenario: Scenario, file: string): RunProvisioning {
  const { plan, hil } = planHil(scenario, planFleet({ seed: scenario.seed, mix: scenario.mix, cities: scenario.cities, behaviour: scenario.rates, start: scenario.start }), file);
  const operators = assignOperators(plan.provisioning.devices.map((d) => d.deviceId), scenario.network.operators, scenario.seed);
  const withOperators = { ...plan.provisioning, devices: plan.provisioning.devices.map((d) => ({ ...d, operator: operators.get(d.deviceId) })) };
  const lists = scenario.provisioning ? mergeChanges(withOperators, scenario.provisioning, file) : withOperators;
  const input = {
    runId: 'validation', clock: { startVirtual: scenario.start, startReal: 0, speed: scenario.speed }, offlineTimeoutMs: scenario.offlineTimeout,
    massCommunicationLoss: scenario.network.massCommunicationLoss, ...lists,
  };
  const r = Provisioning.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0] as (typeof r.error.issues)[number];
    const [list, index, ...rest] = issue.path;
    let where = issue.path.join('.');
    let value: unknown = undefined;
    if (typeof list === 'string' && typeof index === 'number' && list in ID_FIELD) {
      const entry = (lists as Record<string, Record<string, unknown>[]>)[list]?.[index];
      const id = entry?.[ID_FIELD[list as keyof typeof ID_FIELD]];
      where = `${list}[${String(id)}]${rest.length ? `.${rest.join('.')}` : ''}`;
      value = rest.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey], entry);
    }
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
    throw new VigilError('VIGIL_PROVISIONING_INVALID', `scenario ${file}: provisioning ${where}: ${issue.message}; got ${JSON.stringify(value) ?? 'nothing'}${more}`, 'fix that entry under provisioning in the scenario');
  }
  const { devices, zones, curfews, barPairs, timeZone, offlineTimeoutMs, massCommunicationLoss } = r.data;
  const faults = planFaults(scenario.faults, devices, scenario.seed, scenario.start + scenario.duration, file);
  return { plan, fleet: { devices, zones, curfews, barPairs, timeZone, offlineTimeoutMs, massCommunicationLoss }, faults, hil };
}
