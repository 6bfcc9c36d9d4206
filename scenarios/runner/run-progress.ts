/**
 * Feeds a run's progress line (reports/progress.ts) while the timeline and the drain go: once a real
 * second it samples the clock, the fleet's counters and the oracle's expectations against the feed,
 * and hands the state to the sink (a terminal's live line or a CI log's periodic one).
 */
import type { Clock } from '../../protocol/clock.ts';
import { alarmKey, type Expectation } from '../../sim/model/oracle/oracle.ts';
import { ratePerSecond, type AlarmsSoFar, type ProgressState } from '../../reports/progress.ts';

/** Where progress goes (reports/progress-writer.ts); the runner only updates and ends it. */
export interface ProgressSink {
  update(state: ProgressState): void;
  end(): void;
}

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
  /** The fleet's live counters: connections and uplink publishes. */
  readonly fleet: () => { readonly connected: number; readonly publishes: number; readonly unacked: number };
  readonly expectations: readonly Expectation[];
  readonly observedKeys: ReadonlySet<string>;
  readonly tally: AlarmTally;
  readonly faults: readonly { readonly name: string; readonly from: number; readonly until: number }[];
}

/** Samples `source` into `sink` once a real second until stopped; the phase and its window are set as the run goes. */
export function startRunProgress(sink: ProgressSink, source: RunProgressSource, phase: { name: ProgressState['phase']; from: number; until: number }): { setPhase(name: ProgressState['phase'], from: number, until: number): void; stop(): void } {
  let current = phase;
  let previous = { count: source.fleet().publishes, at: Date.now() };
  const sample = (): void => {
    const now = source.clock.now();
    const fleet = source.fleet();
    const next = { count: fleet.publishes, at: Date.now() };
    sink.update({
      phase: current.name, virtualNow: now, from: current.from, until: current.until, speed: source.clock.triple.speed,
      messagesPerSecond: ratePerSecond(previous, next),
      devices: { connected: fleet.connected, total: source.devicesTotal },
      unacked: fleet.unacked,
      alarms: source.tally.sample(source.expectations, source.observedKeys, now),
      activeFaults: source.faults.filter((f) => f.from <= now && now < f.until).map((f) => f.name),
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
      sink.end();
    },
  };
}
