import { describe, expect, it } from 'vitest';
import type { VigilError } from '../protocol/errors.ts';
import type { LatencySummary, LedgerCounts } from '../verify/ledger.ts';
import type { FaultReport } from '../verify/network.ts';
import { compareRuns, DEFAULT_THRESHOLDS, fmtDelta, type Comparison } from './compare.ts';
import { compareText } from './compare-text.ts';
import { compareHtml } from './compare-html.ts';
import type { RunResult } from './run-result.ts';

const counts = (over: Partial<LedgerCounts> = {}): LedgerCounts => ({ expected: 369, onTime: 331, late: 0, lateAllowed: 38, dropped: 0, duplicates: 0, spurious: 0, outOfWindow: 0, ...over });
const latency = (p50: number, p99: number, slaMs = 180_000): LatencySummary => ({ count: 20, p50, p95: p99, p99, max: p99, slaMs });
const fault = (over: Partial<FaultReport> = {}): FaultReport => ({
  name: 'network-update', kind: 'ack-then-lose', from: '2021-10-25T14:10:00.000Z', until: '2021-10-25T16:25:00.000Z', devices: 154,
  healedBy: '2021-10-25T19:49:21.761Z', alarms: { ...counts({ expected: 192, onTime: 154 }), observed: 192 },
  absence: { required: 154, onTime: 154, late: 0, missing: 0, optional: 0 }, timeToDetectMs: 462_900, drainMs: 117_679, notDrained: [], ...over,
});

/** A run.json in the shape of a real replay (fr-2021-10-25, 307 devices, speed 180), with `over` on top. */
function run(id: string, over: Partial<RunResult> = {}): RunResult {
  return {
    schemaVersion: 3, runId: id, vigilVersion: '0.1.0', command: 'npx vigil run scenarios/fr-2021-10-25.scenario.ts --speed 180 --devices 300',
    scenario: { name: 'fr-2021-10-25', file: 'scenarios/fr-2021-10-25.scenario.ts', sha256: 'cdc35593a8651aaa', seed: 20211025, speed: 180, devices: 307, mix: { pse: 263, psem: 30, bar: 7 }, start: '2021-10-25T12:00:00.000Z', end: '2021-10-26T00:00:00.000Z' },
    broker: { kind: 'embedded-aedes', url: 'mqtt://127.0.0.1:41349' }, pipeline: { kind: 'reference-child', url: 'http://127.0.0.1:43547', server: 'vigil-reference-pipeline' },
    startedAt: '2026-11-30T11:59:45.044Z', endedAt: '2026-11-30T12:02:50.114Z', phases: {}, verdict: 'PASS', ledger: counts(), perKind: {}, perDeviceType: {},
    latencyMs: { strap_tamper: latency(4943, 7217), low_battery: latency(3691, 9000, 240_000), communication_loss: { ...latency(0, 0), count: 0 } },
    latencyUnderFaultMs: { mains_power_loss: latency(5_631_999, 18_470_027, 240_000) },
    completeness: { devices: 307, recordsMade: 70863, recordsStored: 70863, recordsMissing: 0, gaps: [] },
    checks: [], failures: [], lateAllowed: [], faults: [fault()],
    absence: { toleranceMs: 360_000, lateAllowanceMs: 900_000, devicesWatched: 154, episodes: 154, required: 154, mass: [], spuriousMass: [] },
    firmware: 'store-and-forward', network: null, fleet: {}, feed: {},
    ...over,
  };
}

const rowOf = (c: Comparison, label: string) => c.sections.flatMap((s) => s.rows).find((r) => r.label === label);

describe('compareRuns', () => {
  it('finds nothing worse between two runs of the same figures', () => {
    const c = compareRuns(run('A'), run('B'));
    expect(c.worse).toEqual([]);
    expect(c.differences).toEqual([]);
    expect(rowOf(c, 'strap_tamper p99')).toMatchObject({ a: 7217, b: 7217 });
    expect(rowOf(c, 'time to detect (mass alarm)')).toMatchObject({ a: 462_900, b: 462_900 });
    // A kind with no latency sample in either run is no row.
    expect(rowOf(c, 'communication_loss p99')).toBeUndefined();
  });

  it('calls B worse for new drops, late and spurious alarms and missing records, each with its flag', () => {
    const c = compareRuns(run('A'), run('B', {
      verdict: 'FAIL', ledger: counts({ dropped: 3, late: 1, spurious: 2 }),
      completeness: { devices: 307, recordsMade: 70863, recordsStored: 70860, recordsMissing: 3, gaps: [] },
    }));
    expect(c.worse).toEqual([
      'verdict: A PASSed, B FAILed',
      'alarms: late: 1 more in B (at most 0: --max-new-late)',
      'alarms: dropped: 3 more in B (at most 0: --max-new-drops)',
      'alarms: spurious: 2 more in B (at most 0: --max-new-spurious)',
      'alarms: records never stored: 3 more in B (at most 0: --max-new-missing-records)',
    ]);
    // Within user-set thresholds, the same counts pass (the verdict still tells).
    const lax = compareRuns(run('A'), run('B', { ledger: counts({ dropped: 3, late: 1, spurious: 2 }) }), { ...DEFAULT_THRESHOLDS, maxNewDrops: 3, maxNewLate: 1, maxNewSpurious: 2 });
    expect(lax.worse).toEqual([]);
  });

  it('judges a p99 rise by percentage and slack together: noise at high speed is not worse', () => {
    // +8 s is +110%, but within the 10 s slack.
    expect(compareRuns(run('A'), run('B', { latencyMs: { ...run('A').latencyMs, strap_tamper: latency(4943, 15_217) } })).worse).toEqual([]);
    // +60 s is past both.
    const c = compareRuns(run('A'), run('B', { latencyMs: { ...run('A').latencyMs, strap_tamper: latency(4943, 67_217) } }));
    expect(c.worse).toEqual(['latency, virtual, outside fault windows: strap_tamper p99: +60.0 s (+831%; at most +20% or +10.0 s: --max-p99-increase)']);
    // With no slack, +20% is allowed and +21% is not.
    const tight = { ...DEFAULT_THRESHOLDS, slackMs: 0 };
    expect(compareRuns(run('A'), run('B', { latencyMs: { ...run('A').latencyMs, strap_tamper: latency(4943, 8660) } }), tight).worse).toEqual([]);
    expect(compareRuns(run('A'), run('B', { latencyMs: { ...run('A').latencyMs, strap_tamper: latency(4943, 8733) } }), tight).worse).toHaveLength(1);
  });

  it('calls an outage B never detected or never drained worse, and a slower detection past the threshold', () => {
    const never = compareRuns(run('A'), run('B', { faults: [fault({ timeToDetectMs: null, drainMs: null, absence: { required: 154, onTime: 150, late: 0, missing: 4, optional: 0 } })] }));
    expect(never.worse).toEqual([
      'fault network-update (ack-then-lose): time to detect (mass alarm): never in B, 7 min 43 s in A',
      'fault network-update (ack-then-lose): backlog drained after the last heal: never in B, 117.7 s in A',
      'fault network-update (ack-then-lose): communication_loss missing: 4 more in B (at most 0: --max-new-drops)',
    ]);
    const slower = compareRuns(run('A'), run('B', { faults: [fault({ timeToDetectMs: 600_000 })] }));
    expect(slower.worse).toEqual(['fault network-update (ack-then-lose): time to detect (mass alarm): +2 min 17 s (+30%; at most +20% or +10.0 s: --max-detect-increase)']);
    expect(compareRuns(run('A'), run('B', { faults: [fault({ timeToDetectMs: 600_000 })] }), { ...DEFAULT_THRESHOLDS, maxDetectIncreasePct: 30 }).worse).toEqual([]);
    // Better is never worse.
    expect(compareRuns(run('A'), run('B', { faults: [fault({ timeToDetectMs: 60_000, drainMs: 1000 })] })).worse).toEqual([]);
  });

  it('refuses runs of different scenarios or seeds, naming each difference', () => {
    const refuse = (b: RunResult): VigilError => {
      try {
        compareRuns(run('A'), b);
      } catch (err) {
        return err as VigilError;
      }
      throw new Error('compared runs it should have refused');
    };
    const seed = refuse(run('B', { scenario: { ...run('A').scenario, seed: 7 } }));
    expect(seed.code).toBe('VIGIL_RUNS_NOT_COMPARABLE');
    expect(seed.message).toContain('seed 20211025 vs 7');
    const other = refuse(run('B', { scenario: { ...run('A').scenario, name: 'smoke', sha256: 'ffff', devices: 1000 } }));
    expect(other.message).toContain('scenario fr-2021-10-25 vs smoke');
    expect(other.message).toContain('devices 307 vs 1000');
    expect(refuse(run('B', { scenario: { ...run('A').scenario, sha256: '0123456789abcdef' } })).message).toContain('scenario file changed');
  });

  it('compares, and says so, runs that differ in speed, firmware or pipeline', () => {
    const c = compareRuns(run('A'), run('B', { scenario: { ...run('A').scenario, speed: 60 }, firmware: 'broker-ack', pipeline: { kind: 'external', url: 'http://x', server: 'contractor 2.1' } }));
    expect(c.differences).toEqual(['speed: 180 vs 60', 'firmware: "store-and-forward" vs "broker-ack"', 'pipeline: "vigil-reference-pipeline" vs "contractor 2.1"']);
  });

  it("shows each harness's pace without judging it, and warns when either fell behind its clock", () => {
    const kept = { lagMaxMs: 40, limitMs: 30_000, behindMinutes: 0, behind: [], failures: 0, failuresWhileBehind: 0 };
    const calm = compareRuns(run('A', { harness: kept }), run('B', { harness: { ...kept, lagMaxMs: 90 } }));
    expect(calm.differences).toEqual([]);
    expect(rowOf(calm, 'worst wake lag (real)')).toMatchObject({ a: 40, b: 90 });
    const behind = compareRuns(run('A', { harness: kept }), run('B', { verdict: 'FAIL', ledger: counts({ late: 3 }), harness: { ...kept, lagMaxMs: 11_720, behindMinutes: 538, behind: [{ from: 'x', until: 'y', lagMaxMs: 11_720 }] } }));
    expect(behind.differences).toEqual(["harness behind its clock: 0 vs 538 minutes — a difference in those minutes may be the harness's, not the pipeline's: compare runs at a speed where both harnesses kept their clock"]);
    expect(rowOf(behind, 'minutes behind its clock')).toEqual({ label: 'minutes behind its clock', a: 0, b: 538, unit: 'count', none: '-' });
    // The pipeline's figures are still judged: B is worse for its late alarms, not for its harness.
    expect(behind.worse).toEqual(['verdict: A PASSed, B FAILed', 'alarms: late: 3 more in B (at most 0: --max-new-late)']);
    // A run.json from before the harness pace: no section at all.
    expect(compareRuns(run('A'), run('B')).sections.map((x) => x.title)).not.toContain('harness (shown, not judged)');
  });
});

describe('rendering a comparison', () => {
  const worse = compareRuns(run('A'), run('B', { verdict: 'FAIL', ledger: counts({ dropped: 2 }), pipeline: { kind: 'external', url: 'http://x', server: '<b>evil & co</b>' } }));

  it('in the terminal: both runs, a delta per row, and each reason B is worse', () => {
    const text = compareText(worse);
    expect(text).toContain('A  A  PASS');
    expect(text).toContain('B  B  FAIL');
    expect(text).toMatch(/ {2}dropped +0 +2 +\+2 {3}WORSE: 2 more in B/);
    expect(text).toMatch(/strap_tamper p99 +7\.2 s +7\.2 s +0\.0 s \(\+0%\)/);
    expect(text).toContain('B is worse than A: 2 thresholds crossed');
    expect(compareText(compareRuns(run('A'), run('B')))).toContain('B is within the thresholds of A');
  });

  it('as HTML: one self-contained page, escaped, with the rows that make B worse marked', () => {
    const html = compareHtml(worse);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src=|https?:/);
    expect(html).toContain('&lt;b&gt;evil &amp; co&lt;/b&gt;');
    expect(html).not.toContain('<b>evil');
    expect(html).toMatch(/<tr class="worse"><td>dropped<\/td><td>0<\/td><td>2<\/td><td>\+2<\/td>/);
    expect(html).toContain('B is worse than A: 2 thresholds crossed');
  });

  it('formats deltas with a sign, and a percentage for times', () => {
    expect(fmtDelta({ label: '', a: 1000, b: 1500, unit: 'ms', none: '-' })).toBe('+0.5 s (+50%)');
    expect(fmtDelta({ label: '', a: 200_000, b: 60_000, unit: 'ms', none: '-' })).toBe('-2 min 20 s (-70%)');
    expect(fmtDelta({ label: '', a: 5, b: 2, unit: 'count', none: '-' })).toBe('-3');
    expect(fmtDelta({ label: '', a: null, b: 2, unit: 'ms', none: 'never' })).toBe('');
  });
});
