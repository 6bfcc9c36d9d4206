/**
 * What the live dashboard shows, as one message (issue 6, item 3): built from the progress sample
 * of the run (reports/progress.ts) and, at the end, from run.json. Every message carries the FULL
 * current state — a browser that joins late or reconnects gets everything at once, and a message
 * skipped for a slow browser (server.ts) loses nothing the next one does not repeat.
 *
 * The charts are the SVG strings report.html draws (reports/html/charts.ts, alarm-series.ts),
 * rendered here, server-side, and swapped into the page whole. Why: one renderer for the report
 * and the dashboard, so the two cannot drift; the page's script stays a few lines with no chart
 * code; and every number a chart shows sits in the DOM as a data-* attribute, where a test reads it.
 */
import { fmtMs, summarise, type LatencySummary } from '../../verify/ledger.ts';
import { AlarmTimes } from '../html/alarm-series.ts';
import { alarmsChart, latencyChart, pendingChart, recordsChart } from '../html/charts.ts';
import { recordSeries } from '../html/record-series.ts';
import type { RecordMinuteCounts } from '../../protocol/record-minutes.ts';
import type { FaultWindow } from '../html/svg.ts';
import { harnessLag, percentDone, virtualTime, type ProgressSample, type ProgressState } from '../progress.ts';
import type { RunResult } from '../run-result.ts';

export interface DashboardMessage {
  /** `waiting`: the timeline has not started; `live`: a sample; `final`: the run ended (its verdict). */
  readonly type: 'waiting' | 'live' | 'final';
  /** The progress line's fields, for a person, in order; and its numbers, for data-* attributes. */
  readonly fields: readonly (readonly [string, string])[];
  readonly numbers: Readonly<Record<string, string | number | null>>;
  /** report.html's charts, as SVG strings (figure elements). */
  readonly charts: { readonly alarms: string; readonly pending: string; readonly records: string; readonly latency: string } | null;
  readonly final: FinalState | null;
}

/** The verdict and the numbers run.json gets. */
export interface FinalState {
  readonly verdict: RunResult['verdict'];
  readonly runDir: string;
  readonly ledger: RunResult['ledger'];
  readonly records: { readonly made: number; readonly stored: number };
}

export interface LiveRun {
  /** The timeline's virtual window (ms): the charts span it from the start. */
  readonly start: number;
  readonly end: number;
  /** The scenario's fault windows, shaded as the report shades run.json's. */
  readonly faults: readonly { readonly name: string; readonly kind: string; readonly from: number; readonly until: number }[];
  readonly slaMs: Readonly<Record<string, number>>;
  /** An observer: the load runs elsewhere, so there are no records to count. */
  readonly observe?: boolean;
}

const iso = (t: number): string => new Date(t).toISOString();

/**
 * Drawing the charts may take this share of the run's event loop at most: the series and latency
 * are recomputed over every alarm so far, which at a million alarms is no longer free, and the
 * devices' timers share the loop. Between two drawings the last charts are sent again.
 */
const CHART_SHARE = 0.05;

export class LiveState {
  private readonly times = new AlarmTimes();
  /** How much of the run's append-only lists of expected and observed alarms is taken in. */
  private takenExpected = 0;
  private takenObserved = 0;
  private state: ProgressState | undefined;
  private records: RecordMinuteCounts | undefined;
  private readonly faults: readonly FaultWindow[];
  private drawn: { readonly charts: NonNullable<DashboardMessage['charts']>; readonly nextAt: number } | undefined;

  constructor(private readonly run: LiveRun, private readonly now: () => number = () => performance.now()) {
    this.faults = run.faults.map((f) => ({ name: f.name, kind: f.kind, from: iso(f.from), until: iso(f.until) }));
  }

  /** A sample: only what was added since the last is read (a long run costs what is new, not everything ever). */
  update(sample: ProgressSample): void {
    for (; this.takenExpected < sample.expected.length; this.takenExpected++) {
      const e = sample.expected[this.takenExpected]!;
      this.times.expect(e, e.triggerTime);
    }
    for (; this.takenObserved < sample.observed.length; this.takenObserved++) {
      const o = sample.observed[this.takenObserved]!;
      this.times.observe(o.alarm, o.receivedAt);
    }
    this.state = sample.state;
    this.records = sample.records;
  }

  /** The current state, as the next browser should get it. */
  message(): DashboardMessage {
    const s = this.state;
    if (s === undefined) return { type: 'waiting', fields: [['phase', 'provisioning and warm-up: the timeline has not started']], numbers: { phase: 'waiting' }, charts: null, final: null };
    return { type: 'live', fields: progressFields(s), numbers: progressNumbers(s), charts: this.liveCharts(), final: null };
  }

  /** The charts as of now, or as last drawn while drawing them again would exceed CHART_SHARE of the time. */
  private liveCharts(): NonNullable<DashboardMessage['charts']> {
    const began = this.now();
    if (this.drawn && began < this.drawn.nextAt) return this.drawn.charts;
    const charts = this.charts(this.faults, latencySoFar(this.times, this.run.slaMs), this.records);
    const took = this.now() - began;
    this.drawn = { charts, nextAt: began + took / CHART_SHARE };
    return charts;
  }

  /** The run's verdict: run.json's numbers, its judged latency, and its fault windows as the report shades them. */
  final(result: RunResult, runDir: string): DashboardMessage {
    const last = this.state;
    const numbers = { ...(last ? progressNumbers(last) : {}), phase: 'ended' };
    // The last sample's fields, but no time left: the run is over.
    const over = new Set(['phase', 'ETA', 'drain limit']);
    const fields: [string, string][] = [['phase', `ended: ${result.verdict}`], ...(last ? progressFields(last).filter(([k]) => !over.has(k)) : [])];
    return {
      type: 'final', fields, numbers, charts: this.charts(result.faults, latencyChart(result), result.records),
      final: { verdict: result.verdict, runDir, ledger: result.ledger, records: { made: result.completeness.recordsMade, stored: result.completeness.recordsStored } },
    };
  }

  private charts(faults: readonly FaultWindow[], latency: string, records: RecordMinuteCounts<string | number> | undefined): NonNullable<DashboardMessage['charts']> {
    const series = this.times.series({ start: this.run.start, end: this.run.end });
    // No counts: an observer (its load runs elsewhere), or before the timeline's first minute.
    const missing = this.run.observe ? 'Records sent vs stored: not measured in observe mode (the load runs elsewhere).' : 'Records sent vs stored: the first minute is not over yet.';
    return { alarms: alarmsChart(series, faults), pending: pendingChart(series, faults), records: recordsChart(records ? recordSeries(records) : undefined, faults, missing), latency };
  }
}

/**
 * Latency per kind of every expected alarm seen so far, summarised as the ledger does (verify/ledger.ts).
 * Not split into outside / under a fault as run.json is: which alarms a fault excuses is decided by
 * the judge at the end (verify/judge.ts), and the final message shows its split.
 */
function latencySoFar(times: AlarmTimes, slaMs: Readonly<Record<string, number>>): string {
  const latencyMs: Record<string, LatencySummary> = {};
  for (const [kind, list] of times.latencies()) latencyMs[kind] = summarise(list, slaMs[kind] ?? 0);
  return latencyChart({ faults: [], latencyMs, latencyUnderFaultMs: {} });
}

/** The progress line's fields (reports/progress.ts), one per row; unknown ones say so. */
export function progressFields(s: ProgressState): [string, string][] {
  const realLeft = Math.max(0, s.until - s.virtualNow) / s.speed;
  const a = s.alarms;
  const unknown = 'unknown (observe mode: the load runs elsewhere)';
  return [
    ['phase', s.phase === 'timeline' ? `timeline, ${percentDone(s)}% done` : 'drain'],
    ['virtual time', `${virtualTime(s.virtualNow)}`],
    [s.phase === 'timeline' ? 'ETA' : 'drain limit', s.phase === 'timeline' ? fmtMs(realLeft) : `at most ${fmtMs(realLeft)} left`],
    ['alarms', `${a.expected} expected, ${a.detected} detected, ${a.pending} pending, ${a.overdue} overdue`],
    ['faults open', s.activeFaults.length > 0 ? s.activeFaults.join(', ') : 'none'],
    ['messages', s.messagesPerSecond === null ? unknown : `${Math.round(s.messagesPerSecond)} msg/s`],
    ['devices', s.devices.connected === null ? `${s.devices.total}, connected: ${unknown}` : `${s.devices.connected}/${s.devices.total} connected`],
    ['unacked', s.unacked === null ? unknown : `${s.unacked} records`],
    ['harness', s.harness === null ? unknown : harnessLag(s.harness)],
  ];
}

function progressNumbers(s: ProgressState): Record<string, string | number | null> {
  return {
    phase: s.phase, 'virtual-now': s.virtualNow, 'virtual-time': iso(s.virtualNow), percent: s.phase === 'timeline' ? percentDone(s) : null,
    'msg-per-s': s.messagesPerSecond === null ? null : Math.round(s.messagesPerSecond), connected: s.devices.connected, devices: s.devices.total, unacked: s.unacked,
    expected: s.alarms.expected, detected: s.alarms.detected, pending: s.alarms.pending, overdue: s.alarms.overdue, faults: s.activeFaults.join(','),
    'harness-lag-ms': s.harness === null ? null : Math.round(s.harness.lagMs), 'harness-behind': s.harness === null ? null : String(s.harness.behind),
  };
}
