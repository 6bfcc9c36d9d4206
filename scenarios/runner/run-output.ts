/**
 * The end of every verifying run: the judgement (verify/judge.ts) and what the run knows about
 * itself become run.json and junit.xml in the run directory.
 */
import { FLEET_REDIAL_RATE_PER_S, fleetBackoff } from '../../sim/transport/backoff.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_VERSION, type RunResult } from '../../reports/run-result.ts';
import { junitXml } from '../../reports/junit.ts';
import { writeHtmlReport } from '../../reports/html/write-report.ts';
import { VIGIL_VERSION } from '../../reports/version.ts';
import type { Judgement } from '../../verify/judge.ts';
import { harnessPace } from '../../verify/harness-pace.ts';
import { redactUrl } from '../../protocol/redact.ts';
import type { LedgerEntry } from '../../verify/ledger.ts';
import { brokerKind, type RunContext, type RunOptions, type Services } from './setup.ts';
import type { ScenarioFacts } from '../../verify/journal-header.ts';

/**
 * Virtual ms within which the pipeline may see a record later than the proxy forwarded it (broker
 * hop, group commit, watchdog sweep): an absence at its boundary by less is neither required nor
 * spurious. A minute, or two real seconds at high speed.
 */
export function absenceTolerance(speed: number): number {
  return Math.max(60_000, 2000 * speed);
}

/**
 * The late allowance a run applies: the scenario's, but never less than the harness's own longest
 * redial wait plus 3 real seconds — after a heal a device dials again after its backoff
 * (sim/transport/backoff.ts: 1–2 s real for a small fleet, up to 1 s + devices / 5,000 per s for a
 * large one, longer after failed dials only at a speed under 60), whatever the speed: at least 5
 * real seconds, and 7 for 15,000 devices.
 */
export function lateAllowance(scenario: { lateAllowance: number; speed: number; mix: { pse: number; psem: number; bar: number } }): number {
  const devices = scenario.mix.pse + scenario.mix.psem + 2 * scenario.mix.bar;
  const redial = fleetBackoff(devices, FLEET_REDIAL_RATE_PER_S, 0, scenario.speed);
  return Math.max(scenario.lateAllowance, (redial.minMs + redial.capMs + 3000) * scenario.speed);
}

/** The scenario as run.json and the journal's header name it. */
export function scenarioFacts(ctx: RunContext, opts: Pick<RunOptions, 'loaded'>): ScenarioFacts {
  const { scenario, start, end } = ctx;
  return {
    name: scenario.name, file: opts.loaded.file, sha256: opts.loaded.sha256, seed: scenario.seed, speed: scenario.speed,
    devices: ctx.plan.devices.length, mix: scenario.mix, start: new Date(start).toISOString(), end: new Date(end).toISOString(),
  };
}

/** What differs between a normal run and an observer: the parts of run.json only the run itself knows. */
export interface RunFacts {
  readonly devicesWatched: number;
  readonly network: RunResult['network'];
  readonly fleet: RunResult['fleet'];
  /** Records per minute: the fleet's (none in observe mode). */
  readonly records?: RunResult['records'];
  readonly feed: RunResult['feed'];
  readonly observe?: RunResult['observe'];
  /** The real devices: their ledger entries are added here, from the judgement. */
  readonly hil?: Omit<NonNullable<RunResult['hil']>, 'ledger'> | undefined;
  /** Impersonation attempts and what the broker refused (scenarios/runner/impersonation.ts). */
  readonly isolation?: RunResult['isolation'];
}

/** A real device's entries marked `hil: true`, the rest as they are. */
function markHil(entries: readonly LedgerEntry[], ids: ReadonlySet<string>): LedgerEntry[] {
  return entries.map((e) => (ids.has(e.deviceId) ? { ...e, hil: true } : e));
}

export function writeRunOutput(ctx: RunContext, opts: RunOptions, svc: Services, j: Judgement, facts: RunFacts): RunResult {
  const { scenario } = ctx;
  const hilIds = new Set(facts.hil?.devices.map((d) => d.deviceId) ?? []);
  const pace = facts.records && harnessPace({
    records: facts.records, speed: scenario.speed, failures: j.ledger.failures, slaMs: scenario.slaMs, offlineTimeoutMs: scenario.offlineTimeout,
  });
  const result: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    runId: ctx.runId,
    vigilVersion: VIGIL_VERSION,
    command: opts.command,
    scenario: scenarioFacts(ctx, opts),
    ...(facts.observe ? { mode: 'observe' as const } : {}),
    broker: { kind: brokerKind(opts), url: redactUrl(svc.brokerUrl) },
    pipeline: { kind: opts.pipelineUrl ? 'external' : 'reference-child', url: redactUrl(svc.pipelineUrl), server: svc.health.server },
    startedAt: ctx.startedAt,
    endedAt: new Date().toISOString(),
    phases: ctx.phases,
    verdict: j.verdict,
    ledger: j.ledger.counts,
    perKind: j.ledger.perKind,
    perDeviceType: j.ledger.perDeviceType,
    latencyMs: j.ledger.latencyMs,
    latencyUnderFaultMs: j.ledger.latencyUnderFaultMs,
    completeness: j.completeness,
    checks: j.checks,
    failures: markHil(j.ledger.failures, hilIds),
    lateAllowed: markHil(j.ledger.lateAllowed, hilIds),
    faults: j.faults,
    absence: {
      toleranceMs: absenceTolerance(scenario.speed),
      lateAllowanceMs: lateAllowance(scenario),
      devicesWatched: facts.devicesWatched,
      episodes: j.prepared.episodes.length,
      required: j.prepared.episodes.filter((e) => e.required).length,
      mass: j.prepared.mass,
      spuriousMass: j.prepared.spuriousMass.map((o) => o.alarm),
    },
    firmware: scenario.firmware,
    network: facts.network,
    fleet: facts.fleet,
    ...(facts.records ? { records: facts.records } : {}),
    ...(pace ? { harness: pace } : {}),
    feed: facts.feed,
    ...(facts.observe ? { observe: facts.observe } : {}),
    ...(facts.hil ? { hil: { ...facts.hil, ledger: markHil(j.ledger.kept, hilIds) } } : {}),
    ...(facts.isolation ? { isolation: facts.isolation } : {}),
  };
  writeFileSync(join(ctx.runDir, 'run.json'), JSON.stringify(result, null, 2));
  writeFileSync(join(ctx.runDir, 'junit.xml'), junitXml(result));
  // report.html reads the journal from disk, as `vigil report` does: what is still buffered goes first.
  svc.journal.flush();
  try {
    writeHtmlReport(ctx.runDir);
  } catch (err) {
    // The verdict stands without its HTML view: a report that cannot be drawn must not turn a run into "could not run".
    opts.log(`report.html not written: ${(err as Error).message} — regenerate it with: vigil report ${ctx.runDir}`);
  }
  return result;
}
