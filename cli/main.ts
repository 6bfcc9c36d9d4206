/**
 * The `vigil` command: parse flags, call the runner, map results to exit codes —
 * 0 PASS, 1 FAIL, 2 could not run (DESIGN.md "Run output").
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { VigilError } from '../protocol/errors.ts';
import { VIGIL_VERSION } from '../reports/version.ts';
// Each command's module is imported when that command runs, not before: `vigil pipeline` (which
// every run starts, and a pipeline-restart fault starts again mid-run) then loads the pipeline
// alone, not the whole runner — tsx compiles what is imported, and that was most of a start.
import type { runCommand } from './run-command.ts';
import type { compareCommand } from './compare-command.ts';
import { DEFAULT_THRESHOLDS } from '../reports/compare.ts';
import type { pipelineCommand } from './pipeline-command.ts';
import type { k6ExportCommand } from './k6-command.ts';
import { DEFAULT_DASHBOARD_PORT } from '../reports/dashboard/server.ts';
import type { hilEmulateCommand, hilProbeCommand } from './hil-command.ts';
import { SERIAL_DEVICE_TYPES } from '../protocol/serial-messages.ts';
import { FIRMWARE_MODES } from '../scenarios/network-schema.ts';
import { hilMatchProblem, splitHilList } from '../hil/match.ts';

/** MQTT broker URL schemes: plain, over TLS, and over WebSocket (protocol/tls.ts). */
const MQTT_SCHEMES = ['mqtt:', 'tcp:', 'mqtts:', 'ssl:', 'tls:', 'ws:', 'wss:'];

export const EXIT = { PASS: 0, FAIL: 1, COULD_NOT_RUN: 2 } as const;

function positive(name: string, integer: boolean) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be a ${integer ? 'whole number' : 'number'} > 0, got "${v}"`);
    }
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got "${v}"`);
    return n;
  };
}

/** A TCP port to listen on: 0 (any free one) to 65535. */
function tcpPort(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name} must be a port from 1 to 65535, or 0 for any free one, got "${v}"`);
    return n;
  };
}

/** A percentage: "20%" or "20". */
function percent(name: string) {
  return (v: string): number => {
    const n = Number(v.trim().replace(/%$/, ''));
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a percentage ≥ 0 like 20%, got "${v}"`);
    return n;
  };
}

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0, got "${v}"`);
    return n;
  };
}

function oneOf(name: string, allowed: readonly string[]) {
  return (v: string): string => {
    if (!allowed.includes(v)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
    return v;
  };
}

function url(name: string, schemes: readonly string[]) {
  return (v: string): string => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new InvalidArgumentError(`${name} must be a URL like ${schemes[0]}//127.0.0.1:1883, got "${v}"`);
    }
    if (!schemes.includes(u.protocol)) throw new InvalidArgumentError(`${name} must start with ${schemes.join(' or ')}, got "${v}"`);
    return v;
  };
}

/** `--hil a,b` (repeatable): each device's match text, checked here so the error names --hil. */
function hilList(v: string, previous: string[] | undefined): string[] {
  const devices = splitHilList(v);
  if (devices.length === 0) throw new InvalidArgumentError(`--hil needs a port or a match, got "${v}"`);
  for (const d of devices) {
    const problem = hilMatchProblem(d);
    if (problem !== undefined) throw new InvalidArgumentError(`--hil: ${problem}`);
  }
  return [...(previous ?? []), ...devices];
}

const program = new Command()
  .name('vigil')
  .description('Drive virtual bracelets through an electronic-monitoring pipeline and prove, alarm by alarm, that every alarm arrived.')
  .version(VIGIL_VERSION)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('run')
  .description('run a scenario and write runs/<run-id>/run.json, junit.xml and report.html; exit 0 PASS, 1 FAIL, 2 could not run')
  .argument('<scenario-file>', 'a *.scenario.ts file written with defineScenario()')
  .option('--broker <url>', 'an external MQTT broker: mqtt://, mqtts://, or over WebSocket ws:// or wss:// (default: an embedded aedes broker)', url('--broker', MQTT_SCHEMES))
  .option('--mosquitto', 'run on a mosquitto Vigil starts on a free loopback port (Debian package), with the scenario\'s broker section (queue limits, persistence); broker-restart faults restart it')
  .option('--pipeline <url>', 'the base URL of a running pipeline (default: start the reference pipeline)', url('--pipeline', ['http:', 'https:']))
  .option('--token <token>', 'the feed and provisioning token of --pipeline (default: $VIGIL_TOKEN)')
  .option('--ca <file>', 'PEM CA certificate an mqtts:// or wss:// broker\'s certificate, and an https:// pipeline\'s, is checked against (overrides the scenario\'s tls.ca)')
  .option('--cert <file>', 'PEM client certificate the devices and the pipeline present to an mqtts:// or wss:// broker (with --key; overrides tls.cert)')
  .option('--key <file>', 'PEM private key of --cert (overrides tls.key)')
  .option('--speed <n>', 'virtual seconds per real second', positive('--speed', false))
  .option('--devices <n>', 'number of bracelets (overrides the scenario)', positive('--devices', true))
  .option('--seed <n>', 'random seed (overrides the scenario)', nonNegativeInt('--seed'))
  .option('--firmware <mode>', `every device's firmware (overrides the scenario): ${FIRMWARE_MODES.join(', ')}`, oneOf('--firmware', FIRMWARE_MODES))
  .option('--workers <n>', 'split the fleet over n worker processes (default 1: in this process)', positive('--workers', true))
  .option('--out <dir>', 'where run directories go', 'runs')
  .option('--hil <port|match>', 'real devices on serial ports in the run, comma-separated: a path, serial=…, or vid=…,pid=… (role psem, gateway mode; docs/SCENARIOS.md "Real devices")', hilList)
  .option('--observe', 'run no devices: verify a load that comes from elsewhere (k6, or another vigil with --devices-only) on the clock this run prints')
  .option('--lead <seconds>', 'with --observe: real seconds from the hand-off to the start of the timeline, for the load to start and connect (default 30)', positive('--lead', false))
  .option('--devices-only', 'run only the devices, on an observer\'s clock, against its broker (--broker): no pipeline, no verdict')
  .option('--clock <json>', 'with --devices-only: the clock the observer printed ({"startVirtual":…,"startReal":…,"speed":…})')
  .option('--clock-file <file>', 'with --devices-only: the runs/<id>/clock.json the observer wrote')
  .option('--progress <seconds>', 'when stdout is not a terminal: real seconds between progress lines (default 10; 0: none). On a terminal, progress is one live line', nonNegativeInt('--progress'))
  .option('--dashboard [port]', `a live web page of the run at http://127.0.0.1:<port>/ (default ${DEFAULT_DASHBOARD_PORT}; 0: any free port, printed)`, tcpPort('--dashboard'))
  .action(async (file: string, o: Parameters<typeof runCommand>[1]) => {
    process.exitCode = await (await import('./run-command.ts')).runCommand(file, o);
  });

const t = DEFAULT_THRESHOLDS;
program
  .command('compare')
  .description('compare run B with its baseline A (same scenario and seed) side by side, with deltas; exit 0 B within the thresholds, 1 B worse, 2 could not compare')
  .argument('<runA>', 'the baseline: a runs/<run-id> directory (or its run.json)')
  .argument('<runB>', 'the run judged against it')
  .option('--html <file>', 'also write the comparison as one self-contained HTML page')
  .option('--max-p99-increase <pct>', `per alarm kind, outside fault windows: how much B's p99 latency may exceed A's (default ${t.maxP99IncreasePct}%)`, percent('--max-p99-increase'))
  .option('--max-new-drops <n>', `dropped alarms, and communication_loss missed under a fault: how many more B may have (default ${t.maxNewDrops})`, nonNegativeInt('--max-new-drops'))
  .option('--max-new-late <n>', `alarms late beyond any fault's allowance: how many more (default ${t.maxNewLate})`, nonNegativeInt('--max-new-late'))
  .option('--max-new-spurious <n>', `spurious alarms: how many more (default ${t.maxNewSpurious})`, nonNegativeInt('--max-new-spurious'))
  .option('--max-new-missing-records <n>', `records never stored: how many more (default ${t.maxNewMissingRecords})`, nonNegativeInt('--max-new-missing-records'))
  .option('--max-detect-increase <pct>', `per fault: how much longer B may take to detect the outage (default ${t.maxDetectIncreasePct}%)`, percent('--max-detect-increase'))
  .option('--max-drain-increase <pct>', `per fault: how much longer B's backlog may take to drain (default ${t.maxDrainIncreasePct}%)`, percent('--max-drain-increase'))
  .option('--slack <seconds>', `a time that grows by at most this many virtual seconds is never worse, whatever the percentage (default ${t.slackMs / 1000})`, nonNegative('--slack'))
  .action(async (runA: string, runB: string, o: Parameters<typeof compareCommand>[2]) => {
    process.exitCode = (await import('./compare-command.ts')).compareCommand(runA, runB, o, print);
  });

program
  .command('pipeline')
  .description('run the reference monitoring pipeline on its own and print the URL it serves')
  .requiredOption('--broker <url>', 'the MQTT broker it ingests from (mqtt://, ws://, or mqtts:// / wss:// with --ca/--cert/--key; a password as userinfo or $VIGIL_BROKER_PASSWORD)', url('--broker', MQTT_SCHEMES))
  .option('--port <n>', 'HTTP/WebSocket port (0: any free port)', nonNegativeInt('--port'), 0)
  .option('--db <file>', 'SQLite file: data survives a restart (default: a temporary file)')
  .option('--token <token>', 'bearer token for provisioning and the feed (default: $VIGIL_TOKEN, else a random one, printed)')
  .option('--ca <file>', 'PEM CA certificate an mqtts:// or wss:// broker\'s certificate is checked against (default: the system\'s)')
  .option('--cert <file>', 'PEM client certificate for an mqtts:// or wss:// broker that requires one (with --key)')
  .option('--key <file>', 'PEM private key of --cert')
  .option('--https-cert <file>', 'serve the API over HTTPS and the feed over wss:// with this PEM certificate (with --https-key)')
  .option('--https-key <file>', 'PEM private key of --https-cert')
  .action(async (o: Parameters<typeof pipelineCommand>[0]) => {
    await (await import('./pipeline-command.ts')).pipelineCommand(o);
  });

program
  .command('k6')
  .description('k6 scripts for fleets past one machine (docs/DISTRIBUTED.md)')
  .command('export')
  .description('write the scenario\'s devices as one self-contained k6 script (xk6-mqtt), to split over machines with execution segments')
  .argument('<scenario-file>', 'a *.scenario.ts file written with defineScenario()')
  .option('--out <file>', 'the script to write (default: <scenario name>.k6.js)')
  .option('--devices <n>', 'number of bracelets (overrides the scenario)', positive('--devices', true))
  .option('--seed <n>', 'random seed (overrides the scenario)', nonNegativeInt('--seed'))
  .option('--speed <n>', 'virtual seconds per real second (must be the observed run\'s)', positive('--speed', false))
  .option('--vus <n>', 'k6 VUs over the whole test, at least the number of k6 instances (default: one per 500 devices)', positive('--vus', true))
  .option('--broker <url>', 'the broker the devices dial when the run does not set VIGIL_BROKER', url('--broker', ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:']), 'mqtt://127.0.0.1:1883')
  .action(async (file: string, o: Parameters<typeof k6ExportCommand>[1]) => {
    process.exitCode = await (await import('./k6-command.ts')).k6ExportCommand(file, o, (line) => process.stdout.write(`${line}\n`));
  });

program
  .command('report')
  .description('regenerate runs/<run-id>/report.html from its run.json and journal.jsonl; exit 0 written, 2 not a readable run directory')
  .argument('<run-dir>', 'a run directory: runs/<run-id>, or its run.json')
  .action(async (runDir: string) => {
    process.exitCode = (await import('./report-command.ts')).reportCommand(runDir, print);
  });

program
  .command('verify')
  .description('rebuild the ledger of a run from its journal.jsonl alone (a run that crashed or was killed) and write run.json marked "rebuilt" (run.rebuilt.json if the run wrote its own); exit 0 PASS, 1 FAIL or the run did not finish, 2 no readable journal')
  .argument('<run-dir>', 'a run directory: runs/<run-id>')
  .action(async (runDir: string) => {
    process.exitCode = await (await import('./verify-command.ts')).verifyCommand(runDir, print);
  });

program
  .command('heal')
  .description('undo what runs killed mid-run left behind (runs/<id>/active-faults.json): stop a leftover reference pipeline and the fault modes it holds; `vigil run` does this first too. Exit 0')
  .option('--out <dir>', 'where run directories go', 'runs')
  .action(async (o: { out: string }) => {
    const lines = (await import('../scenarios/runner/active-faults.ts')).healLeftovers(o.out);
    for (const line of lines) print(`heal: ${line}`);
    if (lines.length === 0) print(`nothing to heal under ${o.out}`);
    process.exitCode = 0;
  });

const hil = program
  .command('hil')
  .description('real devices on serial ports (docs/PROTOCOL.md "Serial protocol"): list them, probe one, or emulate one');

hil
  .command('list')
  .description('the serial ports: path, vendor:product id, serial number, manufacturer, stable /dev/serial/by-id path')
  .action(async () => {
    process.exitCode = await (await import('./hil-command.ts')).hilListCommand(print);
  });

hil
  .command('probe')
  .description('identify the device on a port: identity, firmware, whether it follows virtual time, and a self-test; exit 0 ok, 1 self-test failed, 2 no device')
  .argument('<device>', 'a path (/dev/serial/by-id/…, a pty), serial=ABC123 or vid=0483,pid=5740[,serial=…]')
  .option('--timeout <ms>', 'ACK timeout per frame, real ms', positive('--timeout', true))
  .action(async (device: string, o: Parameters<typeof hilProbeCommand>[1]) => {
    process.exitCode = await (await import('./hil-command.ts')).hilProbeCommand(device, o, print);
  });

hil
  .command('emulate')
  .description('run an emulated reference bracelet on a pseudo-terminal (made with socat unless --link names one), until Ctrl-C')
  .option('--link <path>', 'the device end of an existing pty pair (default: start socat and print the end to give vigil)')
  .option('--type <type>', `the device type: ${SERIAL_DEVICE_TYPES.join(', ')}`, oneOf('--type', SERIAL_DEVICE_TYPES), 'psem')
  .option('--serial <sn>', 'its serial number', 'EMU-0001')
  .option('--state <file>', 'where its seq and unacked records persist (fsynced), so a restart loses nothing')
  .action(async (o: Parameters<typeof hilEmulateCommand>[0]) => {
    process.exitCode = await (await import('./hil-command.ts')).hilEmulateCommand(o, print);
  });

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; a usage error is "could not run".
    process.exitCode = err.exitCode === 0 ? 0 : EXIT.COULD_NOT_RUN;
  } else if (err instanceof VigilError) {
    process.stderr.write(`vigil: ${err.oneLine()}\n`);
    process.exitCode = EXIT.COULD_NOT_RUN;
  } else {
    process.stderr.write(`vigil: internal error: ${(err as Error).message}${process.env.VIGIL_DEBUG ? `\n${(err as Error).stack}` : ' (set VIGIL_DEBUG=1 for the stack)'}\n`);
    process.exitCode = EXIT.COULD_NOT_RUN;
  }
}
