/**
 * The reference pipeline's commit cost as its store fills: the engine and its SQLite store in this
 * process (no MQTT), fed one record per message as the replay sends them (docs/PERFORMANCE.md "The
 * replay's load"), 1,000 records per commit from 1,000 different devices, round-robin over the
 * fleet in a fixed random order (each device reports at its own phase, so a commit's devices are
 * scattered over the device ids) — each device appends its next seq. Reports, in a window after each checkpoint, the real ms
 * a commit of 1,000 records takes (engine.flush(): inserts, rules, device rows, COMMIT with its
 * fsync, synchronous = FULL as in the pipeline), the process's CPU per 1,000 records (building
 * them included), and the bytes it wrote to disk per record (/proc/self/io write_bytes: the WAL and
 * its checkpoints into the DB file). Not a test (DESIGN.md
 * "Testing": never a timed test).
 *
 *   node --import tsx bench/pipeline-store.bench.ts [devices=15000] [checkpoints=500000,1000000,2000000,3000000] [fleet=mixed] [window=50000]
 *
 * The store file goes to a fresh folder under the OS temp dir (BENCH_DIR=dir to put it elsewhere).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Provisioning } from '../protocol/provisioning.ts';
import { Engine } from '../pipeline/engine.ts';
import { Store } from '../pipeline/store.ts';
import { rng } from '../sim/model/random.ts';
import { benchFleet } from './pipeline-fleet.ts';

const devices = Number(process.argv[2] ?? 15_000);
const checkpoints = (process.argv[3] ?? '500000,1000000,2000000,3000000').split(',').map(Number);
const mixed = (process.argv[4] ?? 'mixed') === 'mixed';
const window = Number(process.argv[5] ?? 50_000);
const PER_COMMIT = 1000;
if (!(devices >= PER_COMMIT) || checkpoints.some((c) => !(c >= 0)) || !(window >= PER_COMMIT)) {
  process.stderr.write(`usage: pipeline-store.bench.ts [devices ≥ ${PER_COMMIT}] [checkpoints, comma-separated] [psem|mixed] [window ≥ ${PER_COMMIT}]\n`);
  process.exit(2);
}

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'vigil-store-bench-'));
const file = join(dir, 'p.db');
const T0 = 1_700_000_000_000;
// The engine's virtual clock runs on this fake real clock (speed 1, startReal 0): moved to each
// round's record time, so rules see a clock consistent with the records.
let realNow = 0;
const store = new Store(file);
const engine = new Engine(store, { afterCommit: () => {}, log: () => {}, realNow: () => realNow });
const fleet = benchFleet(devices, mixed, T0, 1, 0);
engine.provision(Provisioning.parse(fleet.prov));
/** The devices in their reporting order (Fisher–Yates, seed 1). */
const order = Array.from({ length: devices }, (_, i) => i);
const random = rng(1, 'pipeline-store-bench');
for (let i = devices - 1; i > 0; i--) {
  const j = Math.floor(random.next() * (i + 1));
  [order[i], order[j]] = [order[j]!, order[i]!];
}

const writeBytes = (): number => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
const fileSize = (f: string): number => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

process.stdout.write(`${devices} ${mixed ? 'mixed' : 'psem'} devices, ${PER_COMMIT} records a commit, one a message; ` +
  `window ${window} records after each checkpoint; store ${file}\n`);
process.stdout.write('stored rows | ms per commit of 1,000 (mean, p50, p90) | CPU ms per 1,000 | disk bytes written per record | DB + WAL MB\n');
const t0 = performance.now();
let stored = 0;
let next = 0;
let seq = 1;
let device = 0;
const end = Math.max(...checkpoints) + window;
for (const checkpoint of [...checkpoints].sort((a, b) => a - b)) {
  const times: number[] = [];
  let bytes0 = writeBytes();
  let cpu0 = process.cpuUsage();
  while (stored < checkpoint + window && stored < end) {
    if (stored === checkpoint) {
      bytes0 = writeBytes();
      cpu0 = process.cpuUsage();
    }
    for (let k = 0; k < PER_COMMIT; k++) {
      const d = order[device]!;
      engine.accept(fleet.ids[d]!, [fleet.record(d, seq)]);
      if (++device === devices) {
        device = 0;
        seq++;
        realNow = seq * (mixed ? 60_000 : 1000);
      }
    }
    const c0 = performance.now();
    engine.flush();
    const ms = performance.now() - c0;
    if (stored >= checkpoint) times.push(ms);
    stored += PER_COMMIT;
  }
  next = stored;
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  const perRecord = (writeBytes() - bytes0) / (times.length * PER_COMMIT);
  const cpu = process.cpuUsage(cpu0);
  // CPU of the whole window (building the records too): less disturbed than wall time on a shared machine.
  const cpuPerCommit = (cpu.user + cpu.system) / 1000 / times.length;
  const mb = (fileSize(file) + fileSize(`${file}-wal`)) / 1e6;
  process.stdout.write(`${String(checkpoint).padStart(11)} | ${mean.toFixed(2)} (${at(0.5).toFixed(2)}, ${at(0.9).toFixed(2)}) | ` +
    `${cpuPerCommit.toFixed(2)} | ${Math.round(perRecord)} | ${mb.toFixed(0)}\n`);
}
process.stdout.write(`${next} records stored in ${((performance.now() - t0) / 1000).toFixed(1)} s; engine: ${engine.stats.records} records, ` +
  `${engine.stats.alarms} alarms, ${engine.stats.duplicates} duplicates\n`);
store.close();
// A restart on the full store (as after a kill -9): what the engine reads back before ingesting again.
const r0 = performance.now();
const reopened = new Store(file);
new Engine(reopened, { afterCommit: () => {}, log: () => {}, realNow: () => realNow });
process.stdout.write(`restart on ${next} records: store opened and engine state rebuilt in ${(performance.now() - r0).toFixed(0)} ms\n`);
reopened.close();
rmSync(dir, { recursive: true, force: true });
