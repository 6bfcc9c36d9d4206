/**
 * `npm run bench`: Vigil's fleet against a naive baseline, side by side, in one run (DESIGN.md
 * "Testing": speed and memory are measured here, as ratios; never a timed test).
 *
 * One mosquitto; each contender in its own child process, one after the other, so CPU and RSS are
 * the contender's alone: (a) the naive baseline (bench/naive-baseline.ts), (b) Vigil's real Fleet
 * (bench/vigil-fleet.ts), (c) the floor (bench/floor.ts): pre-encoded bytes on raw sockets, and
 * (d) the acked floor (bench/floor.ts acked): the floor plus the wire work Vigil's protocol adds (the
 * pipeline's ack read and PUBACKed) — the least any fleet speaking it could cost here. Each has
 * its own bench/acker.ts, which answers Vigil's uplinks as the pipeline would and times every
 * contender's publish-to-ingest latency. The broker's and the acker's CPU are read from /proc over
 * each steady window.
 *
 *   BENCH_DEVICES=15000 BENCH_SECONDS=60 BENCH_CONNECT_RATE=500 npm run bench
 *   VIGIL_LINK=mqttjs npm run bench      Vigil's fleet on mqtt.js (sim/transport/mqtt-link.ts) instead of the lean link
 *   BENCH_ONLY=vigil npm run bench:fleet   one contender alone (baseline, vigil, floor or acked-floor), its raw result as JSON
 *   BENCH_NODE_ARGS='--single-threaded-gc' npm run bench   node flags for each contender (an experiment, never the default)
 *   BENCH_PROFILE_DIR=/tmp/prof npm run bench   each contender also writes a V8 CPU profile there
 *                                        (node refuses --cpu-prof in NODE_OPTIONS)
 *
 * Exit code: 0 when Vigil met every bar of issue 7 printed at the end (≥ 3× the baseline's and
 * ≥ 50 % of the floor's messages per CPU-s, ≤ 8 KB RSS per device, a reconnect storm at ≥ 2,000
 * connects/s without errors, every device connected and acked), 1 when it did not, 2 when the bench
 * could not run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startMosquitto } from '../test/support/mosquitto.ts';
import type { BenchParams, ContenderResult } from './measure.ts';

const envInt = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v <= 0) {
    process.stderr.write(`${name} must be a positive integer, got ${process.env[name]}\n`);
    process.exit(2);
  }
  return v;
};
const DEVICES = envInt('BENCH_DEVICES', 15_000);
const SECONDS = envInt('BENCH_SECONDS', 60);
const CONNECT_RATE = envInt('BENCH_CONNECT_RATE', 500);
const GIB = 1024 ** 3;
const here = import.meta.dirname;
/** Vigil's clock speed in bench/vigil-fleet.ts: the acker converts its virtual record times with it. */
const VIGIL_SPEED = 60;

// ---- the machine: every device is a socket in the contender and in mosquitto ----------------------
const openFiles = Number(/^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]?.replace('unlimited', 'Infinity'));
if (openFiles < DEVICES + 200) {
  process.stderr.write(`ulimit -n is ${openFiles}: ${DEVICES} devices need at least ${DEVICES + 200} open files per process (raise it: ulimit -n ${DEVICES + 1000})\n`);
  process.exit(2);
}
// Each contender takes DEVICES loopback ports; the previous contender's sockets may still sit in
// TIME_WAIT (Linux reuses them on loopback with the default net.ipv4.tcp_tw_reuse=2).
const [portLo = 0, portHi = 0] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
if (portHi - portLo < DEVICES + 100) process.stderr.write(`warning: only ${portHi - portLo} ephemeral ports for ${DEVICES} devices\n`);

const mosquittoVersion = /mosquitto version (\S+)/.exec(spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';

/** CPU seconds a process has used, from /proc (clock ticks: 100/s on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Our mosquitto's pid (startMosquitto does not expose it): the child of this process named mosquitto. */
function mosquittoPid(): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]?.split(' ')[1]);
      if (stat.includes('(mosquitto)') && ppid === process.pid) return Number(d);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error('mosquitto process not found');
}

// ---- the contenders ---------------------------------------------------------------------------------
interface Side {
  readonly result: ContenderResult;
  readonly brokerCpuPct: number;
  /** CPU % of the acker over the same window. */
  readonly ackerCpuPct: number;
  readonly acker: AckerSummary;
}

interface AckerSummary {
  readonly batches: number;
  readonly invalid: number;
  /** Publish-to-ingest latency over the steady window, ms (bench/acker.ts). */
  readonly latencyMs: { readonly n: number; readonly p50: number; readonly p99: number; readonly max: number };
}

function spawnTs(file: string, args: string[], extraNodeArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...extraNodeArgs, '--import', 'tsx', join(here, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function startAcker(url: string, epoch: number, speed: number): Promise<{ pid: number; signal(s: NodeJS.Signals): void; stop(): Promise<AckerSummary> }> {
  const child = spawnTs('acker.ts', [url, String(epoch), String(speed)]);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done || first.value !== 'ready') throw new Error('acker did not start');
  return {
    pid: child.pid as number,
    signal: (s) => child.kill(s),
    stop: async () => {
      child.kill('SIGTERM');
      const last = await lines.next();
      if (last.done) throw new Error('acker gave no summary');
      return JSON.parse(last.value) as AckerSummary;
    },
  };
}

/**
 * One contender in its own child process, with its own acker (which answers Vigil's uplinks and
 * times every contender's publish-to-ingest latency). `speed`: the contender's clock, for the acker.
 */
async function runContender(file: string, params: BenchParams, brokerPid: number, speed: number, args: string[] = []): Promise<Side> {
  const acker = await startAcker(params.url, params.epoch, speed);
  let child: ChildProcess | undefined;
  try {
    // --expose-gc: the child collects before its baseline RSS reading, so RSS per device is not noise.
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const extra = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
    child = spawnTs(file, [JSON.stringify(params), ...args], ['--expose-gc', ...profile, ...extra]);
    const limitMs = (2 * (params.devices / params.connectRatePerS) + 60 + params.seconds + 60 + 60) * 1000;
    const running = child;
    const killer = setTimeout(() => running.kill('SIGKILL'), limitMs);
    const exited = new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
    let result: ContenderResult | undefined;
    let t0 = 0;
    let broker0 = 0;
    let acker0 = 0;
    let brokerCpuPct = 0;
    let ackerCpuPct = 0;
    for await (const line of createInterface({ input: running.stdout as NodeJS.ReadableStream })) {
      const msg = protocolLine(file, line) as ({ event?: string } & ContenderResult) | undefined;
      if (msg === undefined) continue;
      if (msg.event === 'steady-start') {
        [t0, broker0, acker0] = [performance.now(), cpuSeconds(brokerPid), cpuSeconds(acker.pid)];
        acker.signal('SIGUSR1');
      } else if (msg.event === 'steady-end') {
        acker.signal('SIGUSR2');
        const wallS = (performance.now() - t0) / 1000;
        brokerCpuPct = ((cpuSeconds(brokerPid) - broker0) / wallS) * 100;
        ackerCpuPct = ((cpuSeconds(acker.pid) - acker0) / wallS) * 100;
      } else {
        result = msg;
      }
    }
    const code = await exited;
    clearTimeout(killer);
    if (!result) throw new Error(`${file} gave no result (exit ${code})`);
    return { result, brokerCpuPct, ackerCpuPct, acker: await acker.stop() };
  } catch (err) {
    // Neither the contender nor its acker outlives a failed run (they would go on loading the broker).
    child?.kill('SIGKILL');
    await acker.stop().catch(() => undefined);
    throw err;
  }
}

/**
 * A line of a contender's stdout: its JSON events and result, one per line. A line that is not one
 * of those is shown, not parsed: node writes there what some of its own flags print
 * (BENCH_NODE_ARGS='--trace-gc'), and the run goes on.
 */
function protocolLine(file: string, line: string): object | undefined {
  if (line.startsWith('{')) {
    try {
      return JSON.parse(line) as object;
    } catch {
      // shown below
    }
  }
  process.stderr.write(`  ${file}: ${line}\n`);
  return undefined;
}

// ---- run ---------------------------------------------------------------------------------------------
const broker = await startMosquitto([
  'max_connections -1',
  // Room for a burst (a device's backlog on connect, or acks behind a slow acker) without drops.
  'max_queued_messages 10000',
]);
const brokerPid = mosquittoPid();
const paramsNow = (): BenchParams => ({ url: broker.url, devices: DEVICES, seconds: SECONDS, connectRatePerS: CONNECT_RATE, epoch: Date.now() });
// BENCH_CADENCE=domain (read by vigil-fleet.ts) gives Vigil's devices DOMAIN.md's cadence instead.
const cadence = process.env.BENCH_CADENCE === 'domain' ? 'vigil at DOMAIN.md cadence, others 1 msg/device/s' : '1 msg/device/s target';
// VIGIL_LINK=mqttjs (read by vigil-fleet.ts) gives Vigil's fleet mqtt.js instead of the lean link.
const vigilLink = process.env.VIGIL_LINK === 'mqttjs' ? 'mqtt.js link' : 'lean link';
const header = `vigil bench — ${DEVICES} devices, ${SECONDS} s steady, ${cadence}, vigil on the ${vigilLink}, connect ${CONNECT_RATE}/s (all), ` +
  `mosquitto ${mosquittoVersion}, node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), ` +
  `${(totalmem() / GIB).toFixed(0)} GiB, ulimit -n ${openFiles}`;
process.stderr.write(`starting: ${header}\n`);

// BENCH_ONLY=vigil (or baseline, floor, acked-floor): one contender alone, its raw result printed; for working on it.
const only = process.env.BENCH_ONLY;
if (only !== undefined) {
  const files: Record<string, [string, number, string[]?]> = {
    baseline: ['naive-baseline.ts', 1], vigil: ['vigil-fleet.ts', VIGIL_SPEED], floor: ['floor.ts', 1], 'acked-floor': ['floor.ts', 1, ['acked']],
  };
  const pick = files[only];
  if (!pick) {
    process.stderr.write(`BENCH_ONLY must be one of ${Object.keys(files).join(', ')}, got ${only}\n`);
    process.exit(2);
  }
  let side: Side;
  try {
    side = await runContender(pick[0], paramsNow(), brokerPid, pick[1], pick[2]);
  } catch (err) {
    process.stderr.write(`bench could not run: ${(err as Error).message}\n`);
    await broker.stop();
    process.exit(2);
  }
  await broker.stop();
  const r = side.result;
  process.stdout.write(`${JSON.stringify({ ...side, messagesPerCpuS: Math.round(r.messagesPerS / (r.cpuPct / 100)), rssPerDeviceKiB: +(r.rssPerDeviceBytes / 1024).toFixed(1) }, null, 1)}\n`);
  process.exit(0);
}

let base: Side;
let vigil: Side;
let floor: Side;
let acked: Side;
try {
  process.stderr.write('(a) baseline: one mqtt.js client and one setInterval per device\n');
  base = await runContender('naive-baseline.ts', paramsNow(), brokerPid, 1);
  process.stderr.write('(b) vigil: sim/fleet.ts with planned firmwares, acked by bench/acker.ts\n');
  vigil = await runContender('vigil-fleet.ts', paramsNow(), brokerPid, VIGIL_SPEED);
  process.stderr.write('(c) floor: pre-encoded PUBLISH bytes written straight to raw sockets\n');
  floor = await runContender('floor.ts', paramsNow(), brokerPid, 1);
  process.stderr.write('(d) acked floor: the floor, plus the pipeline\'s ack read and PUBACKed with the next PUBLISH\n');
  acked = await runContender('floor.ts', paramsNow(), brokerPid, 1, ['acked']);
} catch (err) {
  process.stderr.write(`bench could not run: ${(err as Error).message}\n`);
  await broker.stop();
  process.exit(2);
}
await broker.stop();

// ---- report ------------------------------------------------------------------------------------------
const [a, b, c, d] = [base.result, vigil.result, floor.result, acked.result];
const perCpuS = (r: ContenderResult, perS: number): number => perS / (r.cpuPct / 100);
type Row = [string, (s: Side) => number | null | undefined, number];
const rows: Row[] = [
  ['connect time (s)', (s) => s.result.connectS, 1],
  ['connect rate (/s)', (s) => (s.result.connectS ? s.result.connected / s.result.connectS : null), 0],
  ['messages/s', (s) => s.result.messagesPerS, 0],
  ['records/s ³', (s) => s.result.recordsPerS, 0],
  ['  of which resent/s', (s) => s.result.resentPerS, 0],
  ['acks/s ¹', (s) => s.result.acksPerS, 0],
  ['CPU % (one core=100)', (s) => s.result.cpuPct, 1],
  ['  of which kernel %', (s) => s.result.sysPct, 1],
  ['messages per CPU-s', (s) => perCpuS(s.result, s.result.messagesPerS), 0],
  ['records per CPU-s', (s) => perCpuS(s.result, s.result.recordsPerS), 0],
  ['event-loop p99 (ms)', (s) => s.result.eventLoopP99Ms, 1],
  ['ingest latency p50 (ms) ⁴', (s) => s.acker.latencyMs.p50, 0],
  ['ingest latency p99 (ms) ⁴', (s) => s.acker.latencyMs.p99, 0],
  ['RSS (MiB)', (s) => s.result.rssBytes / 2 ** 20, 0],
  ['peak RSS (MiB)', (s) => s.result.peakRssBytes / 2 ** 20, 0],
  ['RSS per device (KiB)', (s) => s.result.rssPerDeviceBytes / 1024, 1],
  ['heap after GC (MiB)', (s) => s.result.heapAfterGcBytes / 2 ** 20, 0],
  ['  off-heap buffers (MiB)', (s) => s.result.externalAfterGcBytes / 2 ** 20, 0],
  ['GC: scavenges / mark-compacts', (s) => s.result.gc.minor + s.result.gc.major / 1000, 3],
  ['GC pause, main thread (ms/s)', (s) => (s.result.gc.minorMs + s.result.gc.majorMs) / s.result.steadyS, 1],
  ['reconnect storm (/s) ⁵', (s) => s.result.storm?.connectsPerS, 0],
  ['  storm errors', (s) => s.result.storm?.errors, 0],
  ['  storm: all back after (s)', (s) => s.result.storm?.backAtS.p100, 2],
  ['  storm: CPU %', (s) => s.result.storm?.cpuPct, 0],
  ['mosquitto CPU % ²', (s) => s.brokerCpuPct, 1],
  ['acker CPU % ²', (s) => s.ackerCpuPct, 1],
];
const fmt = (x: number | null | undefined, d: number): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const ratio = (x: number | null | undefined, y: number | null | undefined): string =>
  x !== null && x !== undefined && y !== null && y !== undefined && x !== 0 && Number.isFinite(x) && Number.isFinite(y) ? (y / x).toFixed(2) : '—';
const line = (cells: string[]): string => cells[0]!.padEnd(28) + cells.slice(1).map((x) => x.padStart(11)).join('') + '\n';
let out = `${header}\n`;
out += line(['metric', '(a) base', '(b) vigil', '(c) floor', '(d) acked', 'b/a', 'b/c', 'b/d']);
for (const [name, get, digits] of rows) {
  const [x, y, z, w] = [get(base), get(vigil), get(floor), get(acked)];
  out += line([name, fmt(x, digits), fmt(y, digits), fmt(z, digits), fmt(w, digits), ratio(x, y), ratio(z, y), ratio(w, y)]);
}
const e = b.extra;
out += `vigil at the end: ${e.unacked} records unacked, ${e.resent} resent, ${e.evicted} evicted, ${e.created} made, ` +
  `${e.disconnects} disconnects, ${e.linkErrors} link errors; event-loop p99 = ${fmt((b.eventLoopP99Ms / 1000) * (e.speed ?? 1), 0)} virtual s ` +
  `at speed ${e.speed}; baseline: ${a.extra.errors} errors, ${a.extra.disconnects} disconnects; floor: ${c.extra.errors} errors; ` +
  `acked floor: ${d.extra.errors} errors, ${d.extra.pubacks} PUBACKs and ${d.extra.appAcks} acks read\n`;
out += `ackers: ${[base, vigil, floor, acked].map((s) => `${s.result.name} ${s.acker.batches} batches (${s.acker.invalid} invalid)`).join(', ')}\n`;
out += `¹ baseline and floor: broker PUBACKs; vigil and acked floor: application acks from bench/acker.ts (its stand-in for the pipeline;\n` +
  `  the pipeline's own ingest is measured by bench/pipeline-ingest.bench.ts).  ² over each contender's steady window.\n` +
  `³ records in those messages, resends included: a Vigil device sends everything due and unacked in one batch.\n` +
  `⁴ a record made (vigil: when it was due in virtual time) → its batch reaches the acker, real ms.\n` +
  `⁵ every connection dropped at once after the steady window; first to last reconnect (vigil: each device redials after its jittered backoff, 1–4 s at 15,000 devices, paced at 5,000 dials/s); "CPU %" is the contender's from the drop until all were back.\n`;
// A contender that did not carry the load fell behind it: the machine could not (three busy
// processes on its cores), and its per-CPU-s numbers then measure that overload — for Vigil, a
// collapse in which late acks make every device resend its window — not its cost per message. Not
// carried: fewer new records than the target; or (Vigil) 5 % or more of the records sent were
// resends; or (the acked floor, which never resends) fewer acks than publishes reached it, the
// broker behind on delivering them. Said above the checks, so a NOT met is not read as the fleet's cost.
for (const s of [base, vigil, floor, acked]) {
  const domain = s === vigil && process.env.BENCH_CADENCE === 'domain'; // not 1 record/device/s
  const r = s.result;
  const made = r.recordsPerS - r.resentPerS; // first sends; the baseline and the floors resend nothing
  const resent = r.recordsPerS > 0 ? r.resentPerS / r.recordsPerS : 0;
  const acksShort = s === acked && r.acksPerS < 0.95 * r.messagesPerS;
  const why: string[] = [];
  if (!domain && made < 0.95 * DEVICES) why.push(`${fmt(made, 0)} of ${DEVICES} new records/s`);
  if (resent >= 0.05) why.push(`${fmt(100 * resent, 0)} % of the records it sent were resends`);
  if (acksShort) why.push(`the broker delivered ${fmt(r.acksPerS, 0)} acks/s for ${fmt(r.messagesPerS, 0)} messages/s`);
  if (why.length === 0) continue;
  out += `${r.name} did not carry the load: ${why.join(', and ')}; ` +
    `its ratios measure this machine's overload, not its cost per message (try fewer devices: BENCH_DEVICES)\n`;
}
// What the two CPU bars ask, read against the acked floor (d): a fleet doing Vigil's wire work per
// message and nothing else. Where a bar asks more than (d) does, no fleet that speaks the protocol
// could meet it on this machine that day, however lean its model.
{
  const [perA, perC, perD] = [perCpuS(a, a.messagesPerS), perCpuS(c, c.messagesPerS), perCpuS(d, d.messagesPerS)];
  out += `the CPU bars against the acked floor (d), ${fmt(perD, 0)} messages per CPU-s: 3× the baseline asks ${fmt(3 * perA, 0)} ` +
    `(${fmt((100 * 3 * perA) / perD, 0)} % of d), 50 % of the floor asks ${fmt(0.5 * perC, 0)} (${fmt((100 * 0.5 * perC) / perD, 0)} % of d); ` +
    `Vigil did ${ratio(perD, perCpuS(b, b.messagesPerS))} of d\n`;
}
const checks: [string, boolean][] = [
  [`every device connected, and every device that made a record acked at least once (${b.connected}/${b.devices} connected, ${e.reported} of ${e.makers} acked)`, b.connected === b.devices && e.reported === e.makers],
  [`≥ 3× the baseline's messages per CPU-s (${ratio(perCpuS(a, a.messagesPerS), perCpuS(b, b.messagesPerS))}×)`, perCpuS(b, b.messagesPerS) >= 3 * perCpuS(a, a.messagesPerS)],
  [`≥ 50 % of the floor's messages per CPU-s (${ratio(perCpuS(c, c.messagesPerS), perCpuS(b, b.messagesPerS))})`, perCpuS(b, b.messagesPerS) >= 0.5 * perCpuS(c, c.messagesPerS)],
  [`≤ 8 KB RSS per device (${fmt(b.rssPerDeviceBytes / 1000, 1)} kB)`, b.rssPerDeviceBytes <= 8000],
  [`reconnect storm ≥ 2,000 connects/s with no errors (${fmt(b.storm?.connectsPerS, 0)}/s, ${b.storm?.errors ?? '?'} errors)`, (b.storm?.connectsPerS ?? 0) >= 2000 && b.storm?.errors === 0],
];
for (const [what, ok] of checks) out += `${ok ? 'met    ' : 'NOT met'}  ${what}\n`;
process.stdout.write(out);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
