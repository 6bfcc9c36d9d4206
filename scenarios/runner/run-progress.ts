/**
 * Feeds a run's progress (reports/progress.ts) while the timeline and the drain go: once a real
 * second it samples the clock, the fleet's counters and the oracle's expectations against the feed,
 * and hands the sample to the sink — the progress line (a terminal's live line or a CI log's
 * periodic one) and, with --dashboard, the live dashboard (reports/progress-sinks.ts fans it out).
 */
import type { RecordMinuteCounts } from '../../protocol/record-minutes.ts';
import type { Clock } from '../../protocol/clock.ts';
import { alarmKey, type Expectation } from '../../sim/model/oracle/oracle.ts';
import type { Observation } from '../../verify/ledger.ts';
import { ratePerSecond, type AlarmsSoFar, type ProgressSink, type ProgressState } from '../../reports/progress.ts';
import { isBehind } from '../../verify/harness-pace.ts';

/** Where progress goes; the runner only updates and ends it. */
export type { ProgressSink } from '../../reports/progress.ts';

/** Sampled once a real second: often enough for a live line, cheap enough for 15,000 devices. */
const SAMPLE_MS = 1000;

/**
 * Expected alarms so far and where each stands. Incremental: each sample takes the expectations
 * added since the last one and re-checks only those not yet seen, so a long run costs what is open,
 * not everything ever expected.
 */
export class AlarmTally {
  private taken = 0;
  private open: Expectation[] = [];
  private expected = 0;
  private detected = 0;

  constructor(
    private readonly slaMs: Readonly<Record<string, number>>,
    /** False for an alarm the run judges otherwise (a watched device's communication_loss, run-scenario.ts `judged`). */
    private readonly counts: (e: Expectation) => boolean,
  ) {}

  sample(expectations: readonly Expectation[], observed: ReadonlySet<string>, virtualNow: number): AlarmsSoFar {
    for (; this.taken < expectations.length; this.taken++) {
      this.open.push(expectations[this.taken] as Expectation);
      this.expected++;
    }
    let pending = 0;
    let overdue = 0;
    this.open = this.open.filter((e) => {
      if (!this.counts(e)) {
        this.expected--;
        return false;
      }
      if (observed.has(alarmKey(e))) {
        this.detected++;
        return false;
      }
      if (virtualNow - e.triggerTime > (this.slaMs[e.kind] ?? Infinity)) overdue++;
      else pending++;
      return true;
    });
    return { expected: this.expected, detected: this.detected, pending, overdue };
  }
}

export interface RunProgressSource {
  readonly clock: Clock;
  readonly devicesTotal: number;
  /** The fleet's live counters: connections and uplink publishes. None for an observer: those are then unknown. */
  readonly fleet?: () => { readonly connected: number; readonly publishes: number; readonly unacked: number };
  /** The alarms expected by virtual `now`: an append-only list (a run's oracle output, or an observer's seed replay as it falls due). */
  readonly expectations: (now: number) => readonly Expectation[];
  readonly observations: readonly Observation[];
  readonly observedKeys: ReadonlySet<string>;
  readonly tally: AlarmTally;
  readonly faults: readonly { readonly name: string; readonly from: number; readonly until: number }[];
  /** Records sent, resent and stored per virtual minute so far; none for an observer. */
  readonly records?: () => RecordMinuteCounts | undefined;
  /** Virtual ms the harness may lag (verify/harness-pace.ts harnessLagLimitMs); with `records`, the line shows the fleet's lag. */
  readonly harnessLimitMs?: number;
}

/** The worst wake lag of the last two minutes (the current one may have just begun), and whether it is over the limit. */
function harnessNow(records: RecordMinuteCounts | undefined, limitMs: number | undefined, speed: number): ProgressState['harness'] {
  const lag = records?.lagMs;
  if (!lag || limitMs === undefined) return null;
  const lagMs = Math.max(0, ...lag.slice(-2));
  return { lagMs, behind: isBehind(lagMs, speed, limitMs) };
}

/**
 * An observer's expectations as they fall due: it knows every alarm from the seed before the clock
 * starts, but an alarm whose trigger is still ahead is not yet expected (nor pending). Returns the
 * append-only list of those due by `now`, as AlarmTally and the dashboard read it.
 */
export function dueBy(all: readonly Expectation[]): (now: number) => readonly Expectation[] {
  const ahead = [...all].sort((a, b) => a.triggerTime - b.triggerTime);
  const due: Expectation[] = [];
  return (now) => {
    while (due.length < ahead.length && (ahead[due.length] as Expectation).triggerTime <= now) due.push(ahead[due.length] as Expectation);
    return due;
  };
}

/** Samples `source` into `sink` once a real second until stopped; the phase and its window are set as the run goes. */
export function startRunProgress(sink: ProgressSink, source: RunProgressSource, phase: { name: ProgressState['phase']; from: number; until: number }): { setPhase(name: ProgressState['phase'], from: number, until: number): void; stop(): void } {
  let current = phase;
  let previous = { count: source.fleet?.().publishes ?? 0, at: Date.now() };
  const sample = (): void => {
    const now = source.clock.now();
    const fleet = source.fleet?.();
    const next = { count: fleet?.publishes ?? 0, at: Date.now() };
    const expected = source.expectations(now);
    const records = source.records?.();
    sink.update({
      state: {
        phase: current.name, virtualNow: now, from: current.from, until: current.until, speed: source.clock.triple.speed,
        messagesPerSecond: fleet ? ratePerSecond(previous, next) : null,
        devices: { connected: fleet?.connected ?? null, total: source.devicesTotal },
        unacked: fleet?.unacked ?? null,
        alarms: source.tally.sample(expected, source.observedKeys, now),
        activeFaults: source.faults.filter((f) => f.from <= now && now < f.until).map((f) => f.name),
        harness: harnessNow(records, source.harnessLimitMs, source.clock.triple.speed),
      },
      expected, observed: source.observations, records,
    });
    previous = next;
  };
  const timer = setInterval(sample, SAMPLE_MS);
  let stopped = false;
  return {
    setPhase(name, from, until) {
      current = { name, from, until };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      // One last sample: the sinks end on the state the drain ended on, not one up to a second old.
      sample();
      sink.end();
    },
  };
}
