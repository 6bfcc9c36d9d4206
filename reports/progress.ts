/**
 * The progress line of a run (issue 6, item 2): where the run is, how fast it goes, and how its
 * alarms stand so far. Pure: a state in, one line of plain ASCII out, so a terminal can redraw it in
 * place and a CI log can print it as is (reports/progress-writer.ts decides which).
 */
import type { RecordMinuteCounts } from '../protocol/record-minutes.ts';
import type { AlarmIdentity } from '../verify/alarm-index.ts';
import { fmtMs, type Observation } from '../verify/ledger.ts';

export interface ProgressState {
  /** The timeline, or the drain after it (DESIGN.md "Phases of every run"). */
  readonly phase: 'timeline' | 'drain';
  /** Virtual ms now, and the virtual window of the phase: the timeline's start → end, or the drain's start → limit. */
  readonly virtualNow: number;
  readonly from: number;
  readonly until: number;
  /** Virtual ms per real ms: turns what is left of the phase into real time. */
  readonly speed: number;
  /**
   * Uplink publishes per real second since the last sample (resends included: what the broker carries).
   * null, here and below: unknown — an observer (`--observe`) runs no devices, and does not invent zeros.
   */
  readonly messagesPerSecond: number | null;
  readonly devices: { readonly connected: number | null; readonly total: number };
  /** Records made and not yet acknowledged by the pipeline. */
  readonly unacked: number | null;
  readonly alarms: AlarmsSoFar;
  /** Names of the fault windows open now. */
  readonly activeFaults: readonly string[];
  /**
   * The fleet's worst wake lag of this virtual minute and the last, real ms (sim/record-minutes.ts),
   * and whether that is more than the harness may lag (verify/harness-pace.ts): a run whose harness
   * is behind can be stopped and run again slower, not read to its end. null for an observer.
   */
  readonly harness: { readonly lagMs: number; readonly behind: boolean } | null;
}

/**
 * The alarms the oracle expects so far and where each stands. An alarm is only *dropped* once the
 * drain is over (DESIGN.md "The ledger"); while the run goes, one past its SLA and not yet seen is
 * *overdue*: it will end late, late within a fault's allowance, or dropped.
 */
export interface AlarmsSoFar {
  readonly expected: number;
  readonly detected: number;
  /** Not seen yet, still within the SLA of its kind. */
  readonly pending: number;
  /** Not seen yet, past the SLA of its kind. */
  readonly overdue: number;
}

/** An alarm the oracle expects: its identity and trigger time (sim/model's Expectation has both). */
export type ExpectedAlarm = AlarmIdentity & { readonly triggerTime: number };

/**
 * One sample of a running run, handed to every progress sink (reports/progress-sinks.ts): the
 * line's state, and the alarms so far that the live dashboard draws its charts from.
 */
export interface ProgressSample {
  readonly state: ProgressState;
  /** Every alarm expected so far, and every alarm seen on the feed so far: the run's own append-only lists, to read, never to change. */
  readonly expected: readonly ExpectedAlarm[];
  readonly observed: readonly Observation[];
  /** Records sent, resent and stored per virtual minute so far (the fleet's counts); undefined in observe mode or before the timeline. */
  readonly records?: RecordMinuteCounts | undefined;
}

/** Where progress goes: a terminal or CI log line (progress-writer.ts), the live dashboard (reports/dashboard/). */
export interface ProgressSink {
  update(sample: ProgressSample): void;
  /** The timeline and the drain are over: no more samples. */
  end(): void;
}

/** One line, ASCII only (so a terminal's width is its length), most telling fields first. */
export function renderProgress(s: ProgressState): string {
  const left = Math.max(0, s.until - s.virtualNow);
  const realLeft = left / s.speed;
  const where = s.phase === 'timeline'
    ? `${percentDone(s)}%  virtual ${virtualTime(s.virtualNow)}  ETA ${fmtMs(realLeft)}`
    : `drain  virtual ${virtualTime(s.virtualNow)}  at most ${fmtMs(realLeft)} left`;
  const a = s.alarms;
  return [
    where,
    `alarms ${a.expected} expected, ${a.detected} detected, ${a.pending} pending, ${a.overdue} overdue`,
    `faults ${s.activeFaults.length > 0 ? s.activeFaults.join(',') : 'none'}`,
    `${s.messagesPerSecond === null ? 'unknown' : Math.round(s.messagesPerSecond)} msg/s`,
    `devices ${s.devices.connected ?? 'unknown'}/${s.devices.total} connected`,
    `${s.unacked ?? 'unknown'} unacked`,
    `harness ${s.harness === null ? 'unknown' : harnessLag(s.harness)}`,
  ].join('  |  ');
}

/** The harness's lag as the line and the dashboard show it: loud when it is behind. */
export function harnessLag(h: NonNullable<ProgressState['harness']>): string {
  return `${h.behind ? 'BEHIND by' : 'lag'} ${(h.lagMs / 1000).toFixed(2)} s`;
}

export function percentDone(s: ProgressState): number {
  const span = s.until - s.from;
  if (span <= 0) return 100;
  return Math.floor(Math.max(0, Math.min(1, (s.virtualNow - s.from) / span)) * 100);
}

/** UTC to the second, without the date's noise: 2021-10-25 16:40:12Z. */
export function virtualTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** Messages per real second between two samples of a counter; 0 when no time has passed. */
export function ratePerSecond(previous: { readonly count: number; readonly at: number }, next: { readonly count: number; readonly at: number }): number {
  const dt = next.at - previous.at;
  return dt > 0 ? ((next.count - previous.count) * 1000) / dt : 0;
}
