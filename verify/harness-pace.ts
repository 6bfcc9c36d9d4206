/**
 * Did the harness keep its own clock? (issue 7: "no loss caused by the harness")
 *
 * A device model makes its records on time in virtual time whatever happens, but the fleet sends
 * them only when it wakes the device: a starved machine or a busy event loop wakes it late, and the
 * pipeline then sees the records late — through no fault of its own. The fleet measures, per virtual
 * minute, the worst lag of its wakes (sim/record-minutes.ts); this says in which minutes the
 * harness was behind by more than it may be, and how many of the run's failed alarms had such a
 * minute inside their window, so a user can tell a pipeline that failed from a harness that did.
 *
 * It does not change the verdict: every alarm is still judged by the same ledger. But neither kind
 * of run reads as it would. A late harness delays inputs, so it can make a pipeline look late or a
 * device look silent: a failed run says how many of its failures may be the harness's. And it
 * offers the load late and so, in those minutes, lighter than the scenario asks: a run that passed
 * with its harness behind does not show that the pipeline carries the scenario's full rate.
 */
import type { RecordMinuteCounts } from '../protocol/record-minutes.ts';
import type { LedgerEntry } from './ledger.ts';

/**
 * The harness may use at most a sixth of an alarm's budget: a minute whose worst wake lag, in
 * virtual time, is above a sixth of the scenario's tightest SLA (180 s for a tamper, DOMAIN.md
 * "Service levels": 30 s) is a minute the harness was behind in. Below it, an alarm still has most
 * of its SLA left for the pipeline whatever the harness did.
 */
export function harnessLagLimitMs(slaMs: Readonly<Record<string, number>>): number {
  return Math.min(...Object.values(slaMs)) / 6;
}

/** The one rule for "behind": a lag of `lagMs` real ms, at `speed`, is more virtual time than `limitMs`. */
export function isBehind(lagMs: number, speed: number, limitMs: number): boolean {
  return lagMs * speed > limitMs;
}

/** Consecutive minutes the harness was behind in: an ISO span and the worst lag in it (real ms). */
export interface BehindSpan {
  readonly from: string;
  readonly until: string;
  readonly lagMaxMs: number;
}

export interface HarnessPace {
  /** The worst wake lag of the run, real ms. */
  readonly lagMaxMs: number;
  /** Virtual ms: a minute whose worst wake lag × speed is above it is a minute the harness was behind in. */
  readonly limitMs: number;
  readonly behindMinutes: number;
  readonly behind: readonly BehindSpan[];
  /** The run's late, dropped and spurious alarms. */
  readonly failures: number;
  /** Of those, the ones with a minute the harness was behind in between their evidence and their deadline. */
  readonly failuresWhileBehind: number;
}

export interface HarnessPaceInput {
  /** run.json `records` or the fleet's live counts; without `lagMs` (a run.json before it) there is nothing to say. */
  readonly records: RecordMinuteCounts<string | number>;
  readonly speed: number;
  readonly failures: readonly LedgerEntry[];
  readonly slaMs: Readonly<Record<string, number>>;
  readonly offlineTimeoutMs: number;
}

/** The statuses a late harness can cause: it delays records, so an alarm comes late, never, or for a silence that was not. */
const HARNESS_CAN_CAUSE = new Set(['late', 'dropped', 'spurious']);

export function harnessPace(i: HarnessPaceInput): HarnessPace | undefined {
  const lag = i.records.lagMs;
  if (!lag) return undefined;
  const from = typeof i.records.from === 'number' ? i.records.from : Date.parse(i.records.from);
  const minuteMs = i.records.minuteMs;
  const limitMs = harnessLagLimitMs(i.slaMs);
  const behindIn = lag.map((ms) => isBehind(ms, i.speed, limitMs));

  const behind: BehindSpan[] = [];
  for (let m = 0; m < lag.length; m++) {
    if (!behindIn[m]) continue;
    let end = m;
    let worst = lag[m]!;
    while (behindIn[end + 1]) worst = Math.max(worst, lag[++end]!);
    behind.push({ from: new Date(from + m * minuteMs).toISOString(), until: new Date(from + (end + 1) * minuteMs).toISOString(), lagMaxMs: worst });
    m = end;
  }

  // Prefix counts of behind minutes: "was any minute in [a, b] behind" in O(1) per alarm.
  const before = new Array<number>(lag.length + 1).fill(0);
  for (let m = 0; m < lag.length; m++) before[m + 1] = before[m]! + (behindIn[m] ? 1 : 0);
  const minuteOf = (t: number): number => Math.min(lag.length, Math.max(0, Math.floor((t - from) / minuteMs)));
  const anyBehind = (a: number, b: number): boolean => before[Math.min(lag.length, minuteOf(b) + 1)]! - before[minuteOf(a)]! > 0;

  const failed = i.failures.filter((e) => HARNESS_CAN_CAUSE.has(e.status));
  // An alarm's window: from the oldest record that can decide it (a silence is the offline timeout
  // long before its trigger) to its deadline (its SLA after the trigger).
  const whileBehind = failed.filter((e) => anyBehind(e.triggerTime - i.offlineTimeoutMs, e.triggerTime + (i.slaMs[e.kind] ?? 0))).length;
  return {
    lagMaxMs: Math.max(0, ...lag), limitMs, behindMinutes: before[lag.length]!, behind, failures: failed.length, failuresWhileBehind: whileBehind,
  };
}
