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
import { mosquittoBinary, startManagedMosquitto, type ManagedMosquitto } from '../../sim/mosquitto.ts';
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
import type { TlsFiles } from '../../config/tls-files.ts';
import type { TlsMaterial } from '../../protocol/tls.ts';
import type { DeviceLogin } from '../../sim/transport/link.ts';
import { DEVICE_SECRET_ENV } from '../../protocol/device-credentials.ts';
import { VigilError } from '../../protocol/errors.ts';
import { redactUrl } from '../../protocol/redact.ts';
import type { ProgressSink } from './run-progress.ts';

export interface RunOptions {
  readonly loaded: LoadedScenario;
  /** External broker; undefined = embedded aedes, or the managed mosquitto with `mosquitto`. */
  readonly brokerUrl?: string | undefined;
  /** Start a mosquitto of Vigil's (sim/mosquitto.ts) with the scenario's `broker` section, instead of aedes. */
  readonly mosquitto?: boolean | undefined;
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
  /** TLS for an mqtts:// broker: the files (--ca/--cert/--key over the scenario's tls), read and checked. */
  readonly tls?: { readonly files: TlsFiles; readonly material: TlsMaterial | undefined } | undefined;
}

/** Which broker a run had, as run.json and the journal's header say it. */
export function brokerKind(opts: Pick<RunOptions, 'brokerUrl' | 'mosquitto'>): 'external' | 'managed-mosquitto' | 'embedded-aedes' {
  return opts.brokerUrl ? 'external' : opts.mosquitto ? 'managed-mosquitto' : 'embedded-aedes';
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
  /** The broker Vigil runs (embedded aedes, or its mosquitto with --mosquitto); undefined with --broker. */
  readonly embeddedBroker: RunningBroker | undefined;
  readonly pipelineUrl: string;
  /** The run's TLS material, for an https:// pipeline's API and its wss:// feed (--ca, --cert, --key). */
  readonly pipelineTls: TlsMaterial | undefined;
  readonly token: string;
  /** The reference pipeline child; undefined with --pipeline. */
  readonly pipelineChild: PipelineChild | undefined;
  readonly health: Health;
  readonly journal: Journal;
  /** How the devices log in: TLS, and the run's device secret when devices log in as themselves. */
  readonly deviceLogin: DeviceLogin;
}

/** The embedded broker's account for the pipeline's ingest, when device isolation is on (sim/broker-policy.ts). */
const SERVICE_USER = 'vigil-pipeline';

/**
 * The device secret of a run: $VIGIL_DEVICE_SECRET (an external broker's password file was made
 * from it), else one made for this run when the embedded broker enforces isolation. Undefined:
 * devices connect anonymously, as before issue 8.
 */
export function deviceSecretOf(opts: RunOptions, isolation: boolean, loadFromElsewhere: boolean): string | undefined {
  const fromEnv = process.env[DEVICE_SECRET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!isolation) return undefined;
  if (loadFromElsewhere) {
    throw new VigilError('VIGIL_USAGE', `scenario ${basename(opts.loaded.file)} asks for device isolation, and with --observe the devices come from elsewhere: they cannot know a secret made for this run`,
      `set ${DEVICE_SECRET_ENV} to the same secret here and for the load (vigil run --devices-only reads it too), or drop the scenario's isolation section`);
  }
  if (opts.brokerUrl !== undefined) {
    throw new VigilError('VIGIL_USAGE', `scenario ${basename(opts.loaded.file)} asks for device isolation against the broker at ${redactUrl(opts.brokerUrl)}, but no device secret is set`,
      `set ${DEVICE_SECRET_ENV} to the secret the broker's password file was made from (each device's password is HMAC-SHA256(secret, device id), docs/SAFETY.md)`);
  }
  return randomBytes(32).toString('hex');
}

/**
 * `--mosquitto`: the run's own mosquitto, configured from the scenario's `broker` section, its files
 * in the run directory. Plain and anonymous: TLS and device isolation are the embedded broker's
 * (or your own mosquitto's, docs/SAFETY.md), refused here before anything starts.
 */
async function startRunMosquitto(opts: RunOptions, dir: string, isolation: boolean): Promise<ManagedMosquitto> {
  const file = basename(opts.loaded.file);
  if (isolation || opts.tls?.material) {
    throw new VigilError('VIGIL_USAGE', `scenario ${file} asks for ${isolation ? 'device isolation' : 'TLS'}, which --mosquitto does not set up (it starts a plain, anonymous mosquitto)`,
      'drop --mosquitto to run on the embedded broker (it serves TLS and isolation), or run your own mosquitto set up so (docs/SAFETY.md) and pass --broker');
  }
  if (mosquittoBinary() === undefined) {
    throw new VigilError('VIGIL_USAGE', '--mosquitto needs mosquitto, and it is not installed (or not in PATH nor /usr/sbin)', 'install it (Debian: apt-get install mosquitto), or drop --mosquitto to run on the embedded broker');
  }
  // Notices too, for "Outgoing messages are being dropped for client …" (its queue limit at work),
  // but not a line per connection of 15,000 devices.
  return startManagedMosquitto({ dir, limits: opts.loaded.scenario.broker, extraConfig: ['log_type notice', 'connection_messages false'], logFile: join(dir, 'mosquitto.log') });
}

/** A broker URL split for a child process: the URL without its password, and the password (it goes by environment). */
function splitPassword(url: string): { url: string; password: string | undefined } {
  const u = new URL(url);
  if (u.password === '') return { url, password: undefined };
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.href, password };
}

/** Provision: the broker (reached, or embedded), the pipeline (reached, or started), the journal. */
/** `loadFromElsewhere`: an observer (observe.ts), whose devices are another process's. */
export async function startServices(opts: RunOptions, ctx: RunContext, loadFromElsewhere = false): Promise<Services> {
  const { teardowns, runDir } = ctx;
  // What outlives this process if it is killed, recorded for `vigil heal`; cleared last, when all is stopped.
  const dbFile = join(runDir, 'pipeline.db');
  let pipelineChild: PipelineChild | undefined;
  let mosquitto: ManagedMosquitto | undefined;
  const mosquittoDir = join(runDir, 'mosquitto');
  const active = new ActiveFaults(runDir, ctx.runId, () => pipelineChild && { pid: pipelineChild.pid, db: dbFile },
    () => mosquitto && { pid: mosquitto.pid, conf: join(mosquittoDir, 'mosquitto.conf') });
  teardowns.add('active faults record', () => active.clear());
  let brokerUrl = opts.brokerUrl;
  let embeddedBroker: RunningBroker | undefined;
  const isolation = ctx.scenario.isolation !== undefined;
  const deviceLogin: DeviceLogin = { tls: opts.tls?.material, deviceSecret: deviceSecretOf(opts, isolation, loadFromElsewhere) };
  // What the pipeline dials: the broker URL, with the service account's login on an isolating embedded broker.
  let pipelineBroker: { url: string; password: string | undefined };
  if (brokerUrl) {
    await probeBroker(brokerUrl, opts.tls?.material);
    pipelineBroker = splitPassword(brokerUrl);
  } else if (opts.mosquitto) {
    const m = embeddedBroker = mosquitto = await startRunMosquitto(opts, mosquittoDir, isolation);
    teardowns.add('mosquitto', () => m.close());
    active.refresh();
    brokerUrl = m.url;
    pipelineBroker = { url: brokerUrl, password: undefined };
  } else {
    const service = { username: SERVICE_USER, password: randomBytes(24).toString('hex') };
    const security = isolation ? { isolation: { deviceSecret: deviceLogin.deviceSecret as string, service } } : {};
    const broker = embeddedBroker = await startEmbeddedBroker(0, security);
    teardowns.add('embedded broker', () => broker.close());
    brokerUrl = broker.url;
    pipelineBroker = isolation ? { url: brokerUrl.replace('://', `://${SERVICE_USER}@`), password: service.password } : { url: brokerUrl, password: undefined };
  }
  if (ctx.scenario.broker !== undefined && !opts.mosquitto) {
    opts.log(`note: the scenario's broker section (${Object.entries(ctx.scenario.broker).map(([k, v]) => `${k} ${v}`).join(', ')}) configures --mosquitto's broker; this run's broker is ${opts.brokerUrl ? `yours, at ${redactUrl(opts.brokerUrl)}` : 'the embedded aedes broker (no queue limit, no persistence across a broker-restart)'}`);
  }
  let pipelineUrl = opts.pipelineUrl;
  let token = opts.token ?? process.env.VIGIL_TOKEN ?? '';
  if (pipelineUrl) {
    await pipelineApi.health(pipelineUrl, opts.tls?.material);
  } else {
    token = randomBytes(16).toString('hex');
    const files = opts.tls?.files;
    const child = pipelineChild = await startPipelineChild({
      brokerUrl: pipelineBroker.url, brokerPassword: pipelineBroker.password, token, dbFile,
      tlsFiles: files && { ca: files.ca?.path, cert: files.cert?.path, key: files.key?.path },
    });
    active.refresh();
    teardowns.add('reference pipeline', () => child.close());
    pipelineUrl = child.url;
  }
  const health = await pipelineApi.health(pipelineUrl, opts.tls?.material);
  const journal = new Journal(join(runDir, 'journal.jsonl'), runHeader(ctx, opts, brokerUrl, pipelineUrl), (entry) => active.onJournal(entry));
  teardowns.add('journal', () => journal.close());
  return { brokerUrl, embeddedBroker, pipelineUrl, pipelineTls: opts.tls?.material, token, pipelineChild, health, journal, deviceLogin };
}
