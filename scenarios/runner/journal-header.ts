/** The journal's first line for a run (verify/journal-header.ts): what `vigil verify` needs to judge it alone. */
import { redactUrl } from '../../protocol/redact.ts';
import { VIGIL_VERSION } from '../../reports/version.ts';
import { isProcessFault } from '../schema.ts';
import { JOURNAL_SCHEMA, type RunHeader } from '../../verify/journal-header.ts';
import { absenceTolerance, lateAllowance, scenarioFacts } from './run-output.ts';
import { brokerKind, type RunContext, type RunOptions } from './setup.ts';

export function runHeader(ctx: RunContext, opts: RunOptions, brokerUrl: string, pipelineUrl: string): RunHeader {
  const { scenario, start, end } = ctx;
  return {
    t: 'run', at: start, journalSchema: JOURNAL_SCHEMA, runId: ctx.runId, vigilVersion: VIGIL_VERSION, command: opts.command, startedAt: ctx.startedAt,
    scenario: scenarioFacts(ctx, opts),
    window: { start, end },
    slaMs: scenario.slaMs, offlineTimeoutMs: scenario.offlineTimeout, lateAllowanceMs: lateAllowance(scenario), toleranceMs: absenceTolerance(scenario.speed),
    mass: scenario.network.massCommunicationLoss,
    faults: ctx.faults.map((p) => ({ name: p.fault.name, kind: p.fault.kind, from: p.fault.from, until: p.fault.until, devices: p.devices, healAt: [...p.healAt] })),
    processFaults: scenario.faults.filter(isProcessFault).map((f) => ({ name: f.name, kind: f.kind, from: f.from, until: f.until })),
    devices: ctx.fleet.devices.map((d) => [d.deviceId, d.type, d.operator] as const),
    barPairs: ctx.fleet.barPairs.map((p) => [p.perpetratorId, p.victimId] as const),
    hil: ctx.hil.map((h) => h.deviceId),
    broker: { kind: brokerKind(opts), url: redactUrl(brokerUrl) },
    pipeline: { kind: opts.pipelineUrl ? 'external' : 'reference-child', url: redactUrl(pipelineUrl) },
  };
}
