/**
 * What every run that verifies starts with — a normal run (run-scenario.ts) and an observer
 * (observe.ts) alike: its directory and phase timer, the fleet it provisions (validated before
 * anything starts), and the broker and pipeline it verifies through, each with its teardown.
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import type { Health } from '../../protocol/provisioning.ts';
import type { OpenHilSession } from '../../hil/api.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../sim/broker.ts';
import type { DeliveryMode } from '../../sim/fleet.ts';
import { startPipelineChild, type PipelineChild } from '../../sim/pipeline-process.ts';
import { Journal } from '../../verify/journal.ts';
import type { Scenario } from '../schema.ts';
import type { LoadedScenario } from '../load.ts';
import { Teardowns } from './teardown.ts';
import { runHeader } from './journal-header.ts';
import { ActiveFaults } from './active-faults.ts';
import { provisionRun, type RunProvisioning } from './provision.ts';
import { pipelineApi, probeBroker } from './endpoints.ts';
import type { ProgressSink } from './run-progress.ts';

export interface RunOptions {
  readonly loaded: LoadedScenario;
  /** External broker; undefined = embedded aedes. */
  readonly brokerUrl?: string | undefined;
  /** External pipeline base URL; undefined = the reference pipeline as a child process. */
  readonly pipelineUrl?: string | undefined;
  /** Feed/provisioning token of an external pipeline. */
  readonly token?: string | undefined;
  readonly outDir: string;
  readonly command: string;
  readonly log: (line: string) => void;
  /** Aborts the run (Ctrl-C): it still drains what it can, reads, and reports. */
  readonly signal?: AbortSignal | undefined;
  /** Worker processes the fleet is split over (--workers; default 1: the fleet in this process). */
  readonly workers?: number | undefined;
  /** Opens a real device's serial session (hil/session.ts); needed when the scenario has a `hil` section. */
  readonly openHilSession?: OpenHilSession | undefined;
  /** Where the progress of the timeline and the drain goes (reports/progress-writer.ts); none when undefined. */
  readonly progress?: ProgressSink | undefined;
}

export function newRunId(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${stamp}-${name}-${randomBytes(3).toString('hex')}`;
}

/** Each device's firmware variant: the scenario's one mode, or its mode for the device's type. */
export function firmwareModes(scenario: Scenario, types: readonly string[]): DeliveryMode[] {
  const f = scenario.firmware;
  if (typeof f === 'string') return types.map(() => f);
  return types.map((t) => (t === 'pse' ? f.pse : t === 'psem' ? f.psem : f.bar) ?? f.default);
}

export interface RunContext extends RunProvisioning {
  readonly scenario: Scenario;
  readonly runId: string;
  readonly runDir: string;
  readonly startedAt: string;
  readonly teardowns: Teardowns;
  /** Real seconds each phase took, filled by `phase`. */
  readonly phases: Record<string, number>;
  /** Ends the current phase under `name`. */
  phase(name: string): void;
  /** Virtual start and end of the timeline. */
  readonly start: number;
  readonly end: number;
  readonly deviceTypes: ReadonlyMap<string, string>;
  readonly operatorOf: ReadonlyMap<string, string>;
  readonly partnerOf: ReadonlyMap<string, string>;
  readonly modes: DeliveryMode[];
}

/** The run directory and the fleet, validated; throws (before anything starts) on a bad scenario. */
export function openRun(opts: Pick<RunOptions, 'loaded' | 'outDir'>): RunContext {
  const { scenario } = opts.loaded;
  const runId = newRunId(scenario.name);
  const runDir = join(opts.outDir, runId);
  mkdirSync(runDir, { recursive: true });
  const phases: Record<string, number> = {};
  let phaseStart = Date.now();
  const startedAt = new Date().toISOString();
  const provisioning = provisionRun(scenario, basename(opts.loaded.file));
  const { plan, fleet: provisioned } = provisioning;
  return {
    ...provisioning, scenario, runId, runDir, startedAt, teardowns: new Teardowns(), phases,
    phase: (name) => {
      const now = Date.now();
      phases[name] = (now - phaseStart) / 1000;
      phaseStart = now;
    },
    start: scenario.start,
    end: scenario.start + scenario.duration,
    deviceTypes: new Map(provisioned.devices.map((d) => [d.deviceId, d.type])),
    operatorOf: new Map(provisioned.devices.map((d) => [d.deviceId, d.operator])),
    partnerOf: new Map(provisioned.barPairs.flatMap((p) => [[p.perpetratorId, p.victimId], [p.victimId, p.perpetratorId]] as const)),
    modes: firmwareModes(scenario, plan.devices.map((d) => d.type)),
  };
}

export interface Services {
  readonly brokerUrl: string;
  /** The embedded broker; undefined with --broker. */
  readonly embeddedBroker: RunningBroker | undefined;
  readonly pipelineUrl: string;
  readonly token: string;
  /** The reference pipeline child; undefined with --pipeline. */
  readonly pipelineChild: PipelineChild | undefined;
  readonly health: Health;
  readonly journal: Journal;
}

/** Provision: the broker (reached, or embedded), the pipeline (reached, or started), the journal. */
export async function startServices(opts: RunOptions, ctx: RunContext): Promise<Services> {
  const { teardowns, runDir } = ctx;
  // What outlives this process if it is killed, recorded for `vigil heal`; cleared last, when all is stopped.
  const dbFile = join(runDir, 'pipeline.db');
  let pipelineChild: PipelineChild | undefined;
  const active = new ActiveFaults(runDir, ctx.runId, () => pipelineChild && { pid: pipelineChild.pid, db: dbFile });
  teardowns.add('active faults record', () => active.clear());
  let brokerUrl = opts.brokerUrl;
  let embeddedBroker: RunningBroker | undefined;
  if (brokerUrl) {
    await probeBroker(brokerUrl);
  } else {
    const broker = embeddedBroker = await startEmbeddedBroker();
    teardowns.add('embedded broker', () => broker.close());
    brokerUrl = broker.url;
  }
  let pipelineUrl = opts.pipelineUrl;
  let token = opts.token ?? process.env.VIGIL_TOKEN ?? '';
  if (pipelineUrl) {
    await pipelineApi.health(pipelineUrl);
  } else {
    token = randomBytes(16).toString('hex');
    const child = pipelineChild = await startPipelineChild({ brokerUrl, token, dbFile });
    active.refresh();
    teardowns.add('reference pipeline', () => child.close());
    pipelineUrl = child.url;
  }
  const health = await pipelineApi.health(pipelineUrl);
  const journal = new Journal(join(runDir, 'journal.jsonl'), runHeader(ctx, opts, brokerUrl, pipelineUrl), (entry) => active.onJournal(entry));
  teardowns.add('journal', () => journal.close());
  return { brokerUrl, embeddedBroker, pipelineUrl, token, pipelineChild, health, journal };
}
