/** `vigil run <scenario-file>`: load and validate, run (or observe, or only make the load), report, and return the exit code. */
import { VigilError } from '../protocol/errors.ts';
import { loadScenario } from '../scenarios/load.ts';
import { parseClock, readClockFile } from '../scenarios/runner/clock-handoff.ts';
import { summaryText } from '../reports/summary.ts';
import { progressWriter } from '../reports/progress-writer.ts';
import { fanOut, lineSink } from '../reports/progress-sinks.ts';
import { openDashboard, type Dashboard } from '../reports/dashboard/dashboard.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { DEFAULT_DASHBOARD_PORT } from '../reports/dashboard/server.ts';
import { checkTargets, type Target } from '../config/interlock.ts';
import { loadProjectConfig } from '../config/project-config.ts';
import { healLeftovers } from '../scenarios/runner/active-faults.ts';
import { mergeTlsFiles, readTlsFiles } from '../config/tls-files.ts';
import { redactUrl } from '../protocol/redact.ts';
import { DEVICE_SECRET_ENV } from '../protocol/device-credentials.ts';
import { dirname } from 'node:path';

export interface RunFlags {
  broker?: string;
  /** Run on a mosquitto Vigil starts (sim/mosquitto.ts) instead of the embedded aedes broker. */
  mosquitto?: boolean;
  pipeline?: string;
  token?: string;
  speed?: number;
  devices?: number;
  seed?: number;
  firmware?: string;
  out: string;
  /** Observe mode: no devices; the load comes from elsewhere. */
  observe?: boolean;
  /** Only the devices, on a given clock, against a given broker: the load of an observer. */
  devicesOnly?: boolean;
  clock?: string;
  clockFile?: string;
  /** Observe mode: real seconds between the hand-off and the start of the timeline. */
  lead?: number;
  /** Worker processes the fleet is split over (default 1). */
  workers?: number;
  /** Real devices added to the scenario's `hil` section: match texts. */
  hil?: string[];
  /** Real seconds between progress lines when stdout is not a terminal (default 10; 0: none). */
  progress?: number;
  /** The live dashboard: its port (0: any free one), or true for the default. */
  dashboard?: number | true;
  /** TLS files for an mqtts:// broker; each overrides the scenario's tls entry. */
  ca?: string;
  cert?: string;
  key?: string;
}

/** Progress lines in a CI log or a pipe: as often as the run logged them before issue 6. */
export const DEFAULT_PROGRESS_EVERY_S = 10;

/** Scenario-shaping flags, in the order a reproduce command names them. */
const SHAPING = ['speed', 'devices', 'seed', 'firmware'] as const;

/** The command line that reproduces a run, from the parsed flags; the token and any URL password are never in it. */
export function reproduceCommand(file: string, flags: RunFlags): string {
  const parts = ['npx vigil run', file];
  if (flags.observe) parts.push('--observe');
  if (flags.mosquitto) parts.push('--mosquitto');
  for (const name of ['broker', 'pipeline', ...SHAPING, 'out', 'ca', 'cert', 'key'] as const) {
    const v = flags[name];
    if (v !== undefined) parts.push(`--${name}`, name === 'broker' || name === 'pipeline' ? redactUrl(String(v)) : String(v));
  }
  if (flags.observe && flags.lead !== undefined) parts.push('--lead', String(flags.lead));
  if (flags.workers !== undefined && !flags.observe) parts.push('--workers', String(flags.workers));
  if (flags.hil !== undefined && flags.hil.length > 0) parts.push('--hil', flags.hil.join(','));
  return parts.join(' ');
}

/** The command that makes an observer's load with Vigil: the same scenario and shaping flags, its clock and broker. */
export function devicesOnlyCommand(file: string, flags: RunFlags, clockFile: string, brokerUrl: string): string {
  const parts = ['npx vigil run', file, '--devices-only', '--clock-file', clockFile, '--broker', redactUrl(brokerUrl)];
  for (const name of [...SHAPING, 'ca', 'cert', 'key'] as const) {
    const v = flags[name];
    if (v !== undefined) parts.push(`--${name}`, String(v));
  }
  return parts.join(' ');
}

/** Combinations of the observe-mode flags that cannot work, refused before anything loads. */
export function checkModeFlags(f: RunFlags): void {
  const usage = (message: string, fix: string): never => {
    throw new VigilError('VIGIL_USAGE', message, fix);
  };
  if (f.observe && f.devicesOnly) usage('--observe and --devices-only exclude each other: one process observes, another makes the load', 'run `vigil run <scenario> --observe` here and `vigil run <scenario> --devices-only --clock-file … --broker …` (the command it prints) elsewhere');
  if (f.clock !== undefined && f.clockFile !== undefined) usage('--clock and --clock-file both given', 'pass the clock once: --clock \'<json>\' or --clock-file runs/<id>/clock.json');
  if ((f.clock !== undefined || f.clockFile !== undefined) && !f.devicesOnly) usage('--clock and --clock-file only go with --devices-only (a run or an observer chooses its own clock)', 'add --devices-only, or drop the clock');
  if (f.mosquitto && f.broker !== undefined) usage('--mosquitto and --broker both given: --mosquitto starts a broker of Vigil\'s, --broker names yours', 'keep one of them');
  if (f.mosquitto && f.devicesOnly) usage('--devices-only makes load for an observer\'s broker: it starts none', 'give --mosquitto to the observer (vigil run --observe --mosquitto), and --broker with the URL it prints here');
  if (f.lead !== undefined && !f.observe) usage('--lead only goes with --observe', 'add --observe, or drop --lead');
  if (f.workers !== undefined && f.workers > 1 && f.observe) usage('--workers splits the fleet, and an observer runs none', 'drop --workers here; give it to the load (vigil run --devices-only --workers N)');
  if ((f.observe || f.devicesOnly) && f.hil !== undefined) usage(`--hil puts real devices into a run Vigil makes; ${f.observe ? '--observe runs no devices' : '--devices-only runs only virtual ones'}`, 'drop --hil, or run the scenario without --observe/--devices-only');
  if (f.devicesOnly) {
    if (f.clock === undefined && f.clockFile === undefined) usage('--devices-only needs the observer\'s clock', 'pass --clock \'<json>\' or --clock-file runs/<id>/clock.json, as the observer (vigil run --observe) printed');
    if (f.broker === undefined) usage('--devices-only needs the observer\'s broker', 'pass --broker <url>, as the observer (vigil run --observe) printed on its `broker:` line');
    if (f.dashboard !== undefined) usage('--devices-only verifies nothing, so the live dashboard has nothing to show', 'give --dashboard to the observer (vigil run --observe --dashboard)');
    if (f.pipeline !== undefined || f.token !== undefined) usage('--devices-only runs no pipeline and reads no feed: --pipeline and --token do not apply', 'drop them (the observer is given them)');
  }
}

function startDashboard(port: number | true, scenario: Scenario, observe: boolean): Promise<Dashboard> {
  const { mix } = scenario;
  return openDashboard(port === true ? DEFAULT_DASHBOARD_PORT : port,
    { scenario: scenario.name, seed: scenario.seed, speed: scenario.speed, devices: mix.pse + mix.psem + 2 * mix.bar, mode: observe ? 'observe' : 'run' },
    { start: scenario.start, end: scenario.start + scenario.duration, faults: scenario.faults, slaMs: scenario.slaMs, observe });
}

/**
 * Every host the run would connect to, for the safety interlock (config/interlock.ts). The
 * operator network's proxies forward to --broker, real devices in gateway mode publish to it
 * (through the proxies or not), and --pipeline serves the API and the operator feed: the two URLs
 * are every target there is. Without them the broker is embedded and the pipeline a child process,
 * both on 127.0.0.1.
 */
export function runTargets(flags: Pick<RunFlags, 'broker' | 'pipeline'>): Target[] {
  const targets: Target[] = [];
  if (flags.broker !== undefined) targets.push({ what: 'the MQTT broker', url: flags.broker, from: '--broker' });
  if (flags.pipeline !== undefined) targets.push({ what: 'the pipeline', url: flags.pipeline, from: '--pipeline' });
  return targets;
}

export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  checkModeFlags(flags);
  // Before anything loads, connects or starts: the safety interlock (issue 8 item 4).
  checkTargets(runTargets(flags), await loadProjectConfig());
  const clock = flags.devicesOnly ? (flags.clockFile !== undefined ? readClockFile(flags.clockFile) : parseClock(flags.clock as string, '--clock')) : undefined;
  const loaded = await loadScenario(file, { speed: flags.speed, devices: flags.devices, seed: flags.seed, firmware: flags.firmware, hil: flags.hil });
  // TLS files are read and parsed before anything connects: a bad one stops the run here (exit 2).
  const tlsFiles = mergeTlsFiles(flags, loaded.scenario.tls, dirname(loaded.file));
  const tls = { files: tlsFiles, material: readTlsFiles(tlsFiles) };
  if ((flags.observe || flags.devicesOnly) && loaded.scenario.hil.length > 0) {
    throw new VigilError('VIGIL_USAGE', `scenario ${file} has real devices (hil), and ${flags.observe ? '--observe runs no devices' : '--devices-only runs only virtual ones'}`, 'run it without --observe/--devices-only, or drop its hil section');
  }
  // Every line of the run goes through the progress writer, so a terminal's live line is never torn.
  const progress = progressWriter(process.stdout, { everyMs: (flags.progress ?? DEFAULT_PROGRESS_EVERY_S) * 1000 });
  const log = (line: string): void => progress.log(line);
  // What a crashed run under the same --out left behind is undone first (vigil heal).
  if (!flags.devicesOnly) for (const line of healLeftovers(flags.out)) log(`heal: ${line}`);
  // The dashboard listens before the run makes any load: a port in use stops it here (exit 2).
  const dashboard = flags.dashboard === undefined ? undefined : await startDashboard(flags.dashboard, loaded.scenario, flags.observe === true);
  if (dashboard) log(`dashboard: ${dashboard.url}`);
  // One sample, two sinks: the progress line, and the dashboard when there is one.
  const sink = fanOut([lineSink(progress), ...(dashboard ? [dashboard.sink] : [])], (err) => log(`progress: a sink failed and is left out from now on: ${(err as Error).message}`));
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nvigil: stopping — draining, reading and reporting (Ctrl-C again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    if (clock) {
      const secret = process.env[DEVICE_SECRET_ENV];
      const login = { tls: tls.material, deviceSecret: secret === '' ? undefined : secret };
      // The runners are imported once the scenario and the flags are known good: a bad input is
      // told without loading the fleet, the broker and the pipeline client first.
      const { runDevicesOnly } = await import('../scenarios/runner/devices-only.ts');
      const sent = await runDevicesOnly({ loaded, clock, brokerUrl: flags.broker as string, log, signal: abort.signal, workers: flags.workers ?? 1, login });
      return sent.unacked === 0 && !abort.signal.aborted ? 0 : 1;
    }
    const { openHilSession } = await import('../hil/session.ts');
    const common = { loaded, brokerUrl: flags.broker, mosquitto: flags.mosquitto === true, pipelineUrl: flags.pipeline, token: flags.token, outDir: flags.out, command: reproduceCommand(file, flags), signal: abort.signal, log, workers: flags.workers ?? 1, openHilSession, progress: sink, tls };
    const { result, runDir } = flags.observe
      ? await (await import('../scenarios/runner/observe.ts')).observeScenario({ ...common, leadS: flags.lead ?? 30, loadCommand: (clockFile, brokerUrl) => devicesOnlyCommand(file, flags, clockFile, brokerUrl) })
      : await (await import('../scenarios/runner/run-scenario.ts')).runScenario(common);
    await dashboard?.finish(result, runDir);
    process.stdout.write(`${summaryText(result, runDir)}\n`);
    return result.verdict === 'PASS' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    await dashboard?.close();
  }
}
