/**
 * `npm run bench:ledger`: verifying a run of 1,000,000 expected alarms, against issue 7's bar of
 * 10 s. The input (bench/ledger-input.ts: 15,000 devices of the French mix over 9 virtual hours,
 * with faults, absence episodes and every kind of outcome) is generated before the clock starts;
 * then `judge()` is timed as a run calls it, and `buildLedger()` alone.
 *
 *   node --import tsx bench/ledger.bench.ts [expected=1000000]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/ledger.bench.ts    with a V8 CPU profile
 *
 * Exit code: 0 when the ledger agrees with the generated truth and judge() took under 10 s,
 * 1 when it disagrees (a fast wrong ledger is worthless) or was too slow, 2 on bad arguments.
 */
import { performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { judge, type Judgement } from '../verify/judge.ts';
// A full collection before each measurement, so RSS and heap are the step's own, not the generator's garbage.
import { collectGarbage as gc } from './collect.ts';
import { buildLedger, type Ledger } from '../verify/ledger.ts';
import { generateJudgeInput, type Bucket, type Generated } from './ledger-input.ts';

const BUDGET_MS = 10_000;
const arg = process.argv[2] ?? '1000000';
const expected = Number(arg);
if (!Number.isInteger(expected) || expected < 1000) {
  process.stderr.write(`expected alarms must be an integer ≥ 1000, got "${arg}" (e.g. node --import tsx bench/ledger.bench.ts 1000000)\n`);
  process.exit(2);
}

const mib = (b: number): string => `${(b / 1024 ** 2).toFixed(0)} MiB`;
const heapUsed = (): number => getHeapStatistics().used_heap_size;
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;
/** CPU ms since `from`, every thread of the process (GC helpers too): on a busy machine, wall time alone misleads. */
const cpuMs = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

process.stdout.write(`ledger bench: ${expected.toLocaleString('en')} expected alarms · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? '?'}\n`);
let t = performance.now();
const gen = generateJudgeInput(expected);
process.stdout.write(`  input: ${gen.devices.toLocaleString('en')} devices, ${gen.input.expectations.length.toLocaleString('en')} oracle expectations, ${gen.observations.toLocaleString('en')} observations, ${gen.input.episodes.length.toLocaleString('en')} absence episodes, ${gen.input.faults.length} fault windows (generated in ${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
gc();
const rssBefore = process.memoryUsage().rss;
const heapBefore = heapUsed();
process.stdout.write(`  before: RSS ${mib(rssBefore)}, heap ${mib(heapBefore)} (the input)\n`);

t = performance.now();
let cpu = process.cpuUsage();
const j = judge(gen.input);
const judgeMs = performance.now() - t;
const judgeCpu = cpuMs(cpu);
const afterJudge = { peak: peakRss(), heap: heapUsed() };

gc();
t = performance.now();
cpu = process.cpuUsage();
const ledgerOnly = buildLedger({
  expectations: j.prepared.expectations, observations: j.prepared.observations, optional: j.prepared.optional, excuse: j.prepared.excuse,
  window: gen.input.window, slaMs: gen.input.slaMs, offlineTimeoutMs: gen.input.offlineTimeoutMs, deviceTypes: gen.input.deviceTypes,
});
const ledgerMs = performance.now() - t;
const ledgerCpu = cpuMs(cpu);

const per100k = (ms: number): string => `${((ms / expected) * 100_000).toFixed(0)} ms per 100k alarms`;
const c = j.ledger.counts;
process.stdout.write([
  `  judge():       ${(judgeMs / 1000).toFixed(2)} s wall (${per100k(judgeMs)}), ${(judgeCpu / 1000).toFixed(2)} s CPU; peak RSS ${mib(afterJudge.peak)}, heap after ${mib(afterJudge.heap)} (+${mib(afterJudge.heap - heapBefore)} over the input)`,
  `  buildLedger(): ${(ledgerMs / 1000).toFixed(2)} s wall (${per100k(ledgerMs)}), ${(ledgerCpu / 1000).toFixed(2)} s CPU`,
  `  machine load: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (1, 5, 15 min) on ${cpus().length} cores`,
  `  ledger: ${c.expected} expected · ${c.onTime} on time · ${c.late} late · ${c.lateAllowed} late within a fault's allowance · ${c.dropped} dropped · ${c.duplicates} duplicates · ${c.spurious} spurious · ${c.outOfWindow} out of window · ${c.optionalSeen ?? 0} optional seen`,
  `  faults: ${j.faults.map((f) => `${f.name}: ${f.alarms?.expected ?? 0} alarms due, ${f.absence.required} silenced (${f.absence.onTime} on time)`).join('; ')}`,
  `  mass: ${j.prepared.mass.map((m) => `${m.operator} ${m.status}, recovery ${m.recovery}`).join('; ') || 'none'}; ${j.prepared.spuriousMass.length} spurious`,
  `  completeness: ${j.completeness.recordsStored} of ${j.completeness.recordsMade} records stored`,
  `  verdict: ${j.verdict} (${j.checks.filter((ch) => !ch.passed).length} of ${j.checks.length} checks failed, as the generated outcomes call for)`,
  '',
].join('\n'));

const wrong = disagreements(gen, j, ledgerOnly);
if (wrong.length > 0) {
  process.stdout.write(`FAIL: the ledger disagrees with the generated truth (${wrong.length}):\n${wrong.slice(0, 30).map((w) => `  - ${w}\n`).join('')}`);
  process.exit(1);
}
process.stdout.write(`  the ledger agrees with the generated truth, count for count\n`);
const ratio = judgeMs / BUDGET_MS;
process.stdout.write(`judge: ${(judgeMs / 1000).toFixed(2)} s = ${ratio.toFixed(2)} of the 10 s budget\n`);
process.exit(ratio < 1 ? 0 : 1);

/** Every count the ledger reports that differs from what the generator decided. */
function disagreements(g: Generated, j: Judgement, alone: Ledger): string[] {
  const out: string[] = [];
  const same = (what: string, got: unknown, want: unknown): void => {
    if (got !== want) out.push(`${what}: ledger ${String(got)}, truth ${String(want)}`);
  };
  const l = j.ledger;
  const truth = g.truth;
  for (const [k, want] of Object.entries(truth.counts)) same(`counts.${k}`, l.counts[k as keyof typeof l.counts] ?? 0, want);
  const buckets = (what: string, got: Readonly<Record<string, Bucket>>, want: Readonly<Record<string, Bucket>>): void => {
    for (const key of new Set([...Object.keys(got), ...Object.keys(want)])) {
      for (const field of ['expected', 'onTime', 'late', 'lateAllowed', 'dropped', 'duplicates', 'spurious', 'outOfWindow', 'observed'] as const) {
        same(`${what}.${key}.${field}`, got[key]?.[field] ?? 0, want[key]?.[field] ?? 0);
      }
    }
  };
  buckets('perKind', l.perKind, truth.perKind);
  buckets('perDeviceType', l.perDeviceType, truth.perDeviceType);
  buckets('perFault', l.perFault, truth.perFault);
  for (const k of new Set([...Object.keys(l.latencyMs), ...Object.keys(truth.latencyCount)])) same(`latencyMs.${k}.count`, l.latencyMs[k]?.count ?? 0, truth.latencyCount[k] ?? 0);
  for (const k of new Set([...Object.keys(l.latencyUnderFaultMs), ...Object.keys(truth.latencyUnderFaultCount)])) same(`latencyUnderFaultMs.${k}.count`, l.latencyUnderFaultMs[k]?.count ?? 0, truth.latencyUnderFaultCount[k] ?? 0);
  same('failures', l.failures.length, truth.counts.late + truth.counts.dropped + truth.counts.duplicates + truth.counts.spurious);
  same('lateAllowed entries', l.lateAllowed.length, truth.counts.lateAllowed);
  same('mass episodes', j.prepared.mass.length, truth.mass.episodes);
  same('mass loss on time', j.prepared.mass.filter((m) => m.status === 'on_time').length, truth.mass.onTime);
  same('mass recovery on time', j.prepared.mass.filter((m) => m.recovery === 'on_time').length, truth.mass.recoveredOnTime);
  same('spurious mass', j.prepared.spuriousMass.length, truth.mass.spurious);
  same('records missing', j.completeness.recordsMissing, truth.recordsMissing);
  same('verdict', j.verdict, 'FAIL');
  // buildLedger alone on the prepared input is the same ledger judge() built.
  same('buildLedger alone', JSON.stringify(alone.counts), JSON.stringify(l.counts));
  return out;
}
