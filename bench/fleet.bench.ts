/**
 * `npm run bench`: Vigil's fleet against a naive baseline, side by side, in one run (DESIGN.md
 * "Testing": speed and memory are measured here, as ratios; never a timed test).
 *
 * One mosquitto; each contender in its own child process, one after the other, so CPU and RSS are
 * the contender's alone: first the baseline (bench/naive-baseline.ts), then Vigil's real Fleet
 * (bench/vigil-fleet.ts) with bench/acker.ts standing in for the pipeline. The broker's and the
 * acker's CPU are read from /proc over each steady window.
 *
 *   BENCH_DEVICES=15000 BENCH_SECONDS=60 BENCH_CONNECT_RATE=500 npm run bench
 *   VIGIL_LINK=mqttjs npm run bench      Vigil's fleet on mqtt.js (sim/transport/mqtt-link.ts) instead of the lean link
 *   BENCH_PROFILE_DIR=/tmp/prof npm run bench   each contender also writes a V8 CPU profile there
 *                                        (node refuses --cpu-prof in NODE_OPTIONS)
 *
 * Exit code: 0 when Vigil met the bar (every device connected and reported, RSS < 1 GiB),
 * 1 when it did not, 2 when the bench could not run.
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
  /** CPU % of the acker over the same window, when one ran. */
  readonly ackerCpuPct?: number;
}

function spawnTs(file: string, args: string[], extraNodeArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...extraNodeArgs, '--import', 'tsx', join(here, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function runContender(file: string, params: BenchParams, brokerPid: number, ackerPid?: number): Promise<Side> {
  // --expose-gc: the child collects before its baseline RSS reading, so RSS per device is not noise.
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawnTs(file, [JSON.stringify(params)], ['--expose-gc', ...profile]);
  const limitMs = (2 * (params.devices / params.connectRatePerS) + 60 + params.seconds + 60) * 1000;
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let result: ContenderResult | undefined;
  let t0 = 0;
  let broker0 = 0;
  let acker0 = 0;
  let brokerCpuPct = 0;
  let ackerCpuPct: number | undefined;
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    const msg = JSON.parse(line) as { event?: string } & ContenderResult;
    if (msg.event === 'steady-start') {
      [t0, broker0, acker0] = [performance.now(), cpuSeconds(brokerPid), ackerPid ? cpuSeconds(ackerPid) : 0];
    } else if (msg.event === 'steady-end') {
      const wallS = (performance.now() - t0) / 1000;
      brokerCpuPct = ((cpuSeconds(brokerPid) - broker0) / wallS) * 100;
      if (ackerPid) ackerCpuPct = ((cpuSeconds(ackerPid) - acker0) / wallS) * 100;
    } else {
      result = msg;
    }
  }
  const code = await exited;
  clearTimeout(killer);
  if (!result) throw new Error(`${file} gave no result (exit ${code})`);
  return { result, brokerCpuPct, ...(ackerCpuPct === undefined ? {} : { ackerCpuPct }) };
}

async function startAcker(url: string): Promise<{ pid: number; stop(): Promise<string> }> {
  const child = spawnTs('acker.ts', [url]);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done || first.value !== 'ready') throw new Error('acker did not start');
  return {
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
      const last = await lines.next();
      return last.done ? '' : last.value;
    },
  };
}

// ---- run ---------------------------------------------------------------------------------------------
const broker = await startMosquitto([
  'max_connections -1',
  // Room for a burst (a device's backlog on connect, or acks behind a slow acker) without drops.
  'max_queued_messages 10000',
]);
const brokerPid = mosquittoPid();
const params: BenchParams = { url: broker.url, devices: DEVICES, seconds: SECONDS, connectRatePerS: CONNECT_RATE };
// BENCH_CADENCE=domain (read by vigil-fleet.ts) gives Vigil's devices DOMAIN.md's cadence instead.
const cadence = process.env.BENCH_CADENCE === 'domain' ? 'vigil at DOMAIN.md cadence, baseline 1 msg/device/s' : '1 msg/device/s target';
// VIGIL_LINK=mqttjs (read by vigil-fleet.ts) gives Vigil's fleet mqtt.js instead of the lean link.
const vigilLink = process.env.VIGIL_LINK === 'mqttjs' ? 'mqtt.js link' : 'lean link';
const header = `vigil bench — ${DEVICES} devices, ${SECONDS} s steady, ${cadence}, vigil on the ${vigilLink}, connect ${CONNECT_RATE}/s (both), ` +
  `mosquitto ${mosquittoVersion}, node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), ` +
  `${(totalmem() / GIB).toFixed(0)} GiB, ulimit -n ${openFiles}`;
process.stderr.write(`starting: ${header}\n`);

let base: Side;
let vigil: Side;
let ackerSummary = '';
try {
  process.stderr.write('baseline: one mqtt.js client and one setInterval per device\n');
  base = await runContender('naive-baseline.ts', params, brokerPid);
  process.stderr.write('vigil: sim/fleet.ts with planned firmwares, acked by bench/acker.ts\n');
  const acker = await startAcker(broker.url);
  try {
    vigil = await runContender('vigil-fleet.ts', params, brokerPid, acker.pid);
  } finally {
    ackerSummary = await acker.stop();
  }
} catch (err) {
  process.stderr.write(`bench could not run: ${(err as Error).message}\n`);
  await broker.stop();
  process.exit(2);
}
await broker.stop();

// ---- report ------------------------------------------------------------------------------------------
const b = base.result;
const v = vigil.result;
const perCpuS = (r: ContenderResult, perS: number): number => perS / (r.cpuPct / 100);
const rows: [string, number | null, number | null, number][] = [
  ['connect time (s)', b.connectS, v.connectS, 1],
  ['messages/s', b.messagesPerS, v.messagesPerS, 0],
  ['records/s ³', b.recordsPerS, v.recordsPerS, 0],
  ['  of which resent/s', b.resentPerS, v.resentPerS, 0],
  ['acks/s ¹', b.acksPerS, v.acksPerS, 0],
  ['CPU % (one core=100)', b.cpuPct, v.cpuPct, 1],
  ['messages per CPU-s', perCpuS(b, b.messagesPerS), perCpuS(v, v.messagesPerS), 0],
  ['records per CPU-s', perCpuS(b, b.recordsPerS), perCpuS(v, v.recordsPerS), 0],
  ['event-loop p99 (ms)', b.eventLoopP99Ms, v.eventLoopP99Ms, 1],
  ['RSS (MiB)', b.rssBytes / 2 ** 20, v.rssBytes / 2 ** 20, 0],
  ['peak RSS (MiB)', b.peakRssBytes / 2 ** 20, v.peakRssBytes / 2 ** 20, 0],
  ['RSS per device (KiB)', b.rssPerDeviceBytes / 1024, v.rssPerDeviceBytes / 1024, 1],
  ['heap after GC (MiB)', b.heapAfterGcBytes / 2 ** 20, v.heapAfterGcBytes / 2 ** 20, 0],
  ['mosquitto CPU % ²', base.brokerCpuPct, vigil.brokerCpuPct, 1],
];
const fmt = (x: number | null, d: number): string => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));
const line = (cells: string[]): string => cells[0]!.padEnd(24) + cells.slice(1).map((c) => c.padStart(12)).join('') + '\n';
let out = `${header}\n`;
out += line(['metric', 'baseline', 'vigil', 'vigil/base']);
for (const [name, x, y, d] of rows) {
  out += line([name, fmt(x, d), fmt(y, d), x !== null && y !== null && x !== 0 ? (y / x).toFixed(2) : '—']);
}
const e = v.extra;
out += `vigil at the end: ${e.unacked} records unacked, ${e.resent} resent, ${e.evicted} evicted, ${e.created} made, ` +
  `${e.disconnects} disconnects, ${e.linkErrors} link errors; event-loop p99 = ${fmt((v.eventLoopP99Ms / 1000) * (e.speed ?? 1), 0)} virtual s ` +
  `at speed ${e.speed}; baseline: ${b.extra.errors} errors, ${b.extra.disconnects} disconnects\n`;
out += `acker (stands in for the pipeline; its ingest is measured by bench/pipeline-ingest.bench.ts): ` +
  `CPU ${fmt(vigil.ackerCpuPct ?? null, 1)} % over vigil's window, ${ackerSummary}\n`;
out += `¹ baseline: broker PUBACKs; vigil: application acks from the acker.  ² over each contender's steady window.\n` +
  `³ records in those messages, resends included: a Vigil device sends everything due and unacked in one batch.\n`;
const allUp = v.connected === v.devices && e.reported === v.devices;
const underGiB = v.peakRssBytes < GIB;
out += `vigil: ${v.connected}/${v.devices} connected, ${e.reported} acked at least once: ${allUp ? 'yes' : 'no'}\n`;
out += `vigil under 1 GiB RSS (peak): ${underGiB ? 'yes' : 'no'}\n`;
process.stdout.write(out);
process.exit(allUp && underGiB ? 0 : 1);
