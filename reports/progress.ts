/**
 * The progress line of a run (issue 6, item 2): where the run is, how fast it goes, and how its
 * alarms stand so far. Pure: a state in, one line of plain ASCII out, so a terminal can redraw it in
 * place and a CI log can print it as is (reports/progress-writer.ts decides which).
 */
import { fmtMs } from '../verify/ledger.ts';

export interface ProgressState {
  /** The timeline, or the drain after it (DESIGN.md "Phases of every run"). */
  readonly phase: 'timeline' | 'drain';
  /** Virtual ms now, and the virtual window of the phase: the timeline's start → end, or the drain's start → limit. */
  readonly virtualNow: number;
  readonly from: number;
  readonly until: number;
  /** Virtual ms per real ms: turns what is left of the phase into real time. */
  readonly speed: number;
  /** Uplink publishes per real second since the last sample (resends included: what the broker carries). */
  readonly messagesPerSecond: number;
  readonly devices: { readonly connected: number; readonly total: number };
  /** Records made and not yet acknowledged by the pipeline. */
  readonly unacked: number;
  readonly alarms: AlarmsSoFar;
  /** Names of the fault windows open now. */
  readonly activeFaults: readonly string[];
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
    `${Math.round(s.messagesPerSecond)} msg/s`,
    `devices ${s.devices.connected}/${s.devices.total} connected`,
    `${s.unacked} unacked`,
  ].join('  |  ');
}

function percentDone(s: ProgressState): number {
  const span = s.until - s.from;
  if (span <= 0) return 100;
  return Math.floor(Math.max(0, Math.min(1, (s.virtualNow - s.from) / span)) * 100);
}

/** UTC to the second, without the date's noise: 2021-10-25 16:40:12Z. */
function virtualTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** Messages per real second between two samples of a counter; 0 when no time has passed. */
export function ratePerSecond(previous: { readonly count: number; readonly at: number }, next: { readonly count: number; readonly at: number }): number {
  const dt = next.at - previous.at;
  return dt > 0 ? ((next.count - previous.count) * 1000) / dt : 0;
}
