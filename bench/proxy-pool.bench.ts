/**
 * What the operator network costs at full scale: the proxy pool (sim/network/proxy-pool.ts) in front
 * of mosquitto (aedes in a child process when mosquitto is not installed), 15,350 raw MQTT
 * connections through it (client id = device id), one small QoS 1 uplink per device per second.
 * Not part of `npm test` or `npm run bench`:
 *
 *   npx tsx bench/proxy-pool.bench.ts
 *   BENCH_DEVICES=15350 BENCH_SECONDS=30 BENCH_CONNECT_RATE=1000 BENCH_WATCHED=0.1 BENCH_OPERATORS=3 npx tsx bench/proxy-pool.bench.ts
 *
 * The load side is this process: raw sockets and pre-built packets (mqtt-packet), one socket per
 * device, so that the fleet's own cost does not cloud the proxies'. A fraction BENCH_WATCHED of the
 * devices is watched (their forwarded uplinks reported over IPC, as for a fault's cohort).
 *
 * BENCH_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the workers.
 * BENCH_DIRECT=1 connects the devices straight to the broker instead (the pool idles): the baseline.
 *
 * Prints connections established, PUBACKs, msgs/s, PUBACK latency through the pool, and each
 * worker's CPU (over the steady window), RSS and open fds (from /proc). Exit 0 when every device
 * connected and every publish of the window was acknowledged, 1 otherwise, 2 when it could not run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { generate } from 'mqtt-packet';
import { encodeBatch, upTopic } from '../protocol/uplink.ts';
import { ProxyPool, openFileLimit } from '../sim/network/proxy-pool.ts';
import { startMosquitto, type Mosquitto } from '../test/support/mosquitto.ts';

const envNum = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`${name} must be a number ≥ 0, got ${process.env[name]}\n`);
    process.exit(2);
  }
  return v;
};
const DEVICES = envNum('BENCH_DEVICES', 15_350);
const SECONDS = envNum('BENCH_SECONDS', 30);
const CONNECT_RATE = envNum('BENCH_CONNECT_RATE', 1000);
const WATCHED = envNum('BENCH_WATCHED', 0.1);
const OPERATORS = Math.max(1, Math.floor(envNum('BENCH_OPERATORS', 3)));
/** 1: the devices connect straight to the broker (the pool still runs, idle): the baseline. */
const DIRECT = envNum('BENCH_DIRECT', 0) === 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => void process.stderr.write(`${s}\n`);

if (openFileLimit() < DEVICES + 500) {
  log(`ulimit -n is ${openFileLimit()}: this process holds one socket per device (${DEVICES})`);
  process.exit(2);
}

// ---- /proc ----------------------------------------------------------------------------------------
function cpuSeconds(pid: number): number {
  const [user, system] = cpuSplit(pid);
  return user + system;
}
/** [user, system] CPU seconds (clock ticks: 100/s on Linux). */
function cpuSplit(pid: number): [number, number] {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return [Number(fields[11]) / 100, Number(fields[12]) / 100];
}
function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}
/** ns the process's main thread spent waiting for a CPU while runnable (/proc/<pid>/schedstat). */
function runQueueNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
}
/** Machine-wide jiffies from /proc/stat: [busy, steal, total]. */
function machineCpu(): [number, number, number] {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return [user + nice + system + irq + softirq, steal, user + nice + system + idle + iowait + irq + softirq + steal];
}
function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
function childNamed(name: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.includes(`(${name})`) && Number(stat.split(') ')[1]?.split(' ')[1]) === process.pid) return Number(d);
    } catch {
      // gone while we looked
    }
  }
  return undefined;
}

// ---- the broker -------------------------------------------------------------------------------------
interface Broker {
  readonly name: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  if (existsSync('/usr/sbin/mosquitto')) {
    // max_connections -1: no cap (the default of 2.0, said out loud); the open-file limit is ours.
    const m: Mosquitto = await startMosquitto(['max_connections -1', 'set_tcp_nodelay true']);
    return { name: 'mosquitto', port: m.port, pid: childNamed('mosquitto'), stop: () => m.stop() };
  }
  // aedes in its own process: in this one it would take one more fd per device.
  const brokerFile = new URL('../sim/broker.ts', import.meta.url).pathname;
  const script = `const { startEmbeddedBroker } = await import(${JSON.stringify(brokerFile)}); const b = await startEmbeddedBroker(); console.log(b.url);`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`aedes exited ${String(code)}`)));
  });
  return {
    name: 'aedes (child process)',
    port: Number(new URL(url).port),
    pid: child.pid,
    stop: async () => {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---- a raw MQTT device ------------------------------------------------------------------------------
class RawDevice {
  socket: Socket | undefined;
  connected = false;
  seq = 0;
  packetId = 0;
  /** performance.now() of each unacknowledged publish, oldest first (PUBACKs come in order). */
  readonly sentAt: number[] = [];
  private acked = 0;
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    readonly id: string,
    private readonly onConnack: (d: RawDevice) => void,
    private readonly onPuback: (d: RawDevice, ms: number) => void,
    private readonly onClose: (d: RawDevice) => void,
  ) {}

  open(port: number): void {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket = s;
    s.on('connect', () => s.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: this.id, clean: true, keepalive: 0 })));
    s.on('data', (chunk: Buffer) => this.read(chunk));
    s.on('error', () => {});
    s.on('close', () => {
      this.connected = false;
      this.onClose(this);
    });
  }

  publish(): void {
    if (!this.connected || this.socket === undefined) return;
    this.seq++;
    this.packetId = (this.packetId % 65535) + 1;
    const payload = Buffer.from(encodeBatch([{ device: this.id, seq: this.seq, time: Date.now(), type: 'heartbeat', battery: 80 }]));
    this.sentAt.push(performance.now());
    this.socket.write(generate({ cmd: 'publish', topic: upTopic(this.id), payload, qos: 1, messageId: this.packetId, retain: false, dup: false }));
  }

  /** Only CONNACK (0x20) and PUBACK (0x40) come back; framed by the remaining-length varint. */
  private read(chunk: Buffer): void {
    let b = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (b.length < 2) break;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < b.length && i < 5; i++) {
        const byte = b[i] as number;
        len += (byte & 0x7f) * mul;
        mul *= 128;
        if ((byte & 0x80) === 0) break;
      }
      if (i >= b.length) break;
      const end = i + 1 + len;
      if (b.length < end) break;
      const type = (b[0] as number) >> 4;
      if (type === 2) {
        if (b[i + 2] === 0) {
          this.connected = true;
          this.onConnack(this);
        } else this.socket?.destroy();
      } else if (type === 4 && this.acked < this.sentAt.length) {
        this.onPuback(this, performance.now() - (this.sentAt[this.acked++] as number));
        if (this.acked === this.sentAt.length) {
          this.sentAt.length = 0;
          this.acked = 0;
        }
      }
      b = b.subarray(end);
    }
    this.buf = b.length === 0 ? Buffer.alloc(0) : Buffer.from(b);
  }
}

// ---- the run ----------------------------------------------------------------------------------------
const broker = await startBroker();
log(`broker: ${broker.name} on port ${broker.port}`);
// A crash of this script must not leave the broker behind (the pool's workers exit on their own).
process.on('exit', () => {
  if (broker.pid === undefined) return;
  try {
    process.kill(broker.pid, 'SIGTERM');
  } catch {
    // already gone
  }
});
const ids = Array.from({ length: DEVICES }, (_, i) => `dev-${String(i).padStart(5, '0')}`);
const devices = new Map(ids.map((id, i) => [id, `op${i % OPERATORS}`]));
const watched = new Set(ids.filter((_, i) => i < DEVICES * WATCHED));
let forwardedReports = 0;
let poolError: Error | undefined;
const t0 = performance.now();
const pool = await ProxyPool.start({
  upstream: { host: '127.0.0.1', port: broker.port },
  devices,
  seed: 1,
  watched,
  workerNodeArgs: (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
  onForwarded: () => void forwardedReports++,
  onError: (e) => {
    poolError = e;
    log(e.oneLine());
  },
});
pool.setClock({ startVirtual: Date.now(), startReal: Date.now(), speed: 1 });
log(`pool: ${pool.workerCount} workers (pids ${pool.pids.join(', ')}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

let connacks = 0;
let closes = 0;
let pubacks = 0;
let latencies: number[] = [];
const all = ids.map(
  (id) =>
    new RawDevice(
      id,
      () => void connacks++,
      (_d, ms) => {
        pubacks++;
        latencies.push(ms);
      },
      () => void closes++,
    ),
);

// Connect at CONNECT_RATE, through each device's endpoint.
const tc = performance.now();
const ports = new Map(all.map((d) => [d.id, DIRECT ? broker.port : Number(new URL(pool.endpointOf(d.id)).port)]));
{
  const perTick = Math.max(1, Math.round(CONNECT_RATE / 100));
  let next = 0;
  while (next < all.length) {
    for (let k = 0; k < perTick && next < all.length; k++, next++) {
      const d = all[next] as RawDevice;
      d.open(ports.get(d.id) as number);
    }
    await sleep(10);
  }
  const deadline = performance.now() + 30_000;
  while (connacks + closes < all.length && performance.now() < deadline) await sleep(100);
}
const connectS = (performance.now() - tc) / 1000;
log(`connected ${connacks}/${DEVICES} in ${connectS.toFixed(1)} s (${closes} closed)`);

// Publish: each device once a second, spread over the second in 100 ticks.
let publishing = true;
let published = 0;
const loop = (async () => {
  let tick = 0;
  const start = performance.now();
  while (publishing) {
    const slot = tick % 100;
    for (let i = slot; i < all.length; i += 100) {
      const d = all[i] as RawDevice;
      if (d.connected) {
        d.publish();
        published++;
      }
    }
    tick++;
    const wait = start + tick * 10 - performance.now();
    await sleep(Math.max(0, wait));
  }
})();

await sleep(3000); // settle
const workerPids = [...pool.pids];
await pool.snapshot(); // resets the workers' event-loop histograms
const { monitorEventLoopDelay } = await import('node:perf_hooks');
const loadLoop = monitorEventLoopDelay({ resolution: 10 });
loadLoop.enable();
const cpu0 = new Map(workerPids.map((p) => [p, cpuSeconds(p)]));
const machine0 = machineCpu();
const sys0 = new Map(workerPids.map((p) => [p, cpuSplit(p)[1]]));
const wait0 = new Map([...workerPids, process.pid].map((p) => [p, runQueueNs(p)]));
const brokerCpu0 = broker.pid === undefined ? NaN : cpuSeconds(broker.pid);
const selfCpu0 = process.cpuUsage();
const pub0 = published;
const ack0 = pubacks;
const fwd0 = forwardedReports;
latencies = [];
const w0 = performance.now();
await sleep(SECONDS * 1000);
const windowS = (performance.now() - w0) / 1000;
const cpu1 = new Map(workerPids.map((p) => [p, cpuSeconds(p)]));
const waitPct = (p: number): number => ((runQueueNs(p) - (wait0.get(p) ?? 0)) / 1e9 / windowS) * 100;
const selfWaitPct = waitPct(process.pid);
const machine1 = machineCpu();
const machineTotal = machine1[2] - machine0[2];
const machineBusyPct = ((machine1[0] - machine0[0]) / machineTotal) * 100;
const machineStealPct = ((machine1[1] - machine0[1]) / machineTotal) * 100;
const brokerCpu1 = broker.pid === undefined ? NaN : cpuSeconds(broker.pid);
const selfCpu = process.cpuUsage(selfCpu0);
const pubW = published - pub0;
const ackW = pubacks - ack0;
const fwdW = forwardedReports - fwd0;
const snap = await pool.snapshot();
const stats = snap.stats;
loadLoop.disable();
const workerRows = workerPids.map((p, shard) => ({
  shard,
  pid: p,
  cpuPct: (((cpu1.get(p) ?? 0) - (cpu0.get(p) ?? 0)) / windowS) * 100,
  rssMiB: rssMiB(p),
  waitPct: waitPct(p),
  sysPct: ((cpuSplit(p)[1] - (sys0.get(p) ?? 0)) / windowS) * 100,
  loop: snap.workers[shard],
  fds: fds(p),
}));
publishing = false;
await loop;
await sleep(1000); // the last PUBACKs

const sorted = latencies.sort((a, b) => a - b);
const pct = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const fmt = (n: number, d = 1): string => n.toFixed(d);
const lines = [
  `proxy pool at scale: ${DEVICES} devices, ${OPERATORS} operators, ${pool.workerCount} workers, broker ${broker.name}, ${(WATCHED * 100).toFixed(0)}% watched`,
  `connections established: ${connacks}/${DEVICES} in ${fmt(connectS)} s at ${CONNECT_RATE}/s (closed: ${closes})`,
  `steady window ${fmt(windowS)} s: published ${pubW}, PUBACKs ${ackW} → ${fmt(pubW / windowS, 0)} msgs/s sent, ${fmt(ackW / windowS, 0)} PUBACKs/s`,
  `PUBACK latency ${DIRECT ? 'straight to the broker' : 'through the pool'} (ms): p50 ${fmt(pct(0.5), 2)}  p90 ${fmt(pct(0.9), 2)}  p99 ${fmt(pct(0.99), 2)}  max ${fmt(sorted.at(-1) ?? NaN, 2)}`,
  `forwarded reports (watched) over IPC: ${fmt(fwdW / windowS, 0)}/s`,
  ...workerRows.map((w) => `worker ${w.shard} (pid ${w.pid}): CPU ${fmt(w.cpuPct)}% (kernel ${fmt(w.sysPct)}%)  RSS ${fmt(w.rssMiB, 0)} MiB  open fds ${w.fds}  runnable but waiting for a CPU ${fmt(w.waitPct)}% of the window  event-loop delay p99 ${fmt(w.loop?.eventLoopP99Ms ?? NaN)} ms max ${fmt(w.loop?.eventLoopMaxMs ?? NaN)} ms`),
  `broker CPU ${fmt(((brokerCpu1 - brokerCpu0) / windowS) * 100)}%   load process CPU ${fmt(((selfCpu.user + selfCpu.system) / 1e6 / windowS) * 100)}%  RSS ${fmt(process.memoryUsage().rss / 2 ** 20, 0)} MiB  event-loop delay p99 ${fmt(Math.max(0, loadLoop.percentile(99) / 1e6 - 10))} ms  waiting for a CPU ${fmt(selfWaitPct)}%`,
  `machine over the window (${availableParallelism()} cores): busy ${fmt(machineBusyPct)}%, stolen by the hypervisor ${fmt(machineStealPct)}%, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  `proxy stats: ${Object.entries(stats)
    .map(([op, s]) => `${op} open ${s.connectionsOpen} packetsUp ${s.packetsUp}`)
    .join('; ')}`,
  `per message: ${fmt((workerRows.reduce((a, w) => a + w.cpuPct, 0) / 100 / (ackW / windowS)) * 1e6, 1)} µs of worker CPU`,
];
process.stdout.write(`${lines.join('\n')}\n`);

for (const d of all) d.socket?.destroy();
await pool.close();
await broker.stop();
const ok = poolError === undefined && connacks === DEVICES && ackW >= pubW * 0.99;
process.exit(ok ? 0 : 1);
