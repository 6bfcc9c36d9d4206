import { describe, expect, it } from 'vitest';
import { START, sampleJournal, sampleRun } from '../../test/support/sample-run.ts';
import type { FeedAlarm } from '../../protocol/feed.ts';
import type { Observation } from '../../verify/ledger.ts';
import { alarmSeries } from '../html/alarm-series.ts';
import { alarmsChart, latencyChart, pendingChart, recordsChart } from '../html/charts.ts';
import { recordSeries } from '../html/record-series.ts';
import type { JournalLine } from '../run-dir.ts';
import type { ExpectedAlarm, ProgressState } from '../progress.ts';
import { LiveState, progressFields } from './live-state.ts';

const MIN = 60_000;
const journal = sampleJournal() as (JournalLine & ExpectedAlarm)[];
const run = sampleRun();
const live = { start: START, end: START + 60 * MIN, faults: [{ name: 'cut', kind: 'ack-then-lose', from: START + 15 * MIN, until: START + 35 * MIN }], slaMs: { exclusion_zone_entry: 240_000, curfew_violation: 240_000 } };

/** A clock that never moves: every drawing takes no time, so every message is drawn afresh. */
const instant = (): number => 0;

/** The run's own lists, as the oracle and the feed consumer fill them. */
const expected = journal.filter((l) => l.t === 'expectation');
const observed: Observation[] = journal.filter((l) => l.t === 'observation').map((l) => ({ alarm: l as unknown as FeedAlarm, receivedAt: l.at }));

function state(virtualNow: number, over: Partial<ProgressState> = {}): ProgressState {
  return {
    phase: 'timeline', virtualNow, from: live.start, until: live.end, speed: 240, messagesPerSecond: 12, devices: { connected: 3, total: 3 }, unacked: 0,
    alarms: { expected: 4, detected: 3, pending: 0, overdue: 1 }, activeFaults: [], harness: { lagMs: 20, behind: false }, ...over,
  };
}

describe('the dashboard\'s live state', () => {
  it('says it is waiting before the timeline starts', () => {
    const m = new LiveState(live, instant).message();
    expect(m.type).toBe('waiting');
    expect(m.charts).toBeNull();
  });

  it('draws report.html\'s charts, the same SVG, from the run\'s lists taken in sample by sample', () => {
    const s = new LiveState(live, instant);
    // First half: the lists as they stood at minute 20, then everything.
    s.update({ state: state(START + 20 * MIN), expected: expected.slice(0, 2), observed: observed.slice(0, 2) });
    const early = s.message();
    expect(early.charts!.alarms).toContain('data-total-expected="2"');
    s.update({ state: state(START + 60 * MIN), expected, observed });
    const m = s.message();
    const series = alarmSeries(journal, { start: live.start, end: live.end });
    const faults = run.faults;
    expect(m.type).toBe('live');
    expect(m.charts!.alarms).toBe(alarmsChart(series, faults));
    expect(m.charts!.pending).toBe(pendingChart(series, faults));
    expect(m.numbers).toMatchObject({ phase: 'timeline', 'virtual-now': START + 60 * MIN, percent: 100, expected: 4, detected: 3, overdue: 1 });
  });

  it('records sent vs stored: the fleet\'s counts as report.html draws them, or why there are none', () => {
    const records = { from: START, minuteMs: MIN, sent: [10, 12, 11], resent: [0, 0, 4], stored: [10, 3, 20] };
    const s = new LiveState(live, instant);
    s.update({ state: state(START + 3 * MIN), expected, observed, records });
    expect(s.message().charts!.records).toBe(recordsChart(recordSeries(records), run.faults, ''));
    expect(s.message().charts!.records).toContain('data-total-sent="33" data-total-resent="4" data-total-stored="33"');
    const early = new LiveState(live, instant);
    early.update({ state: state(START), expected: [], observed: [] });
    expect(early.message().charts!.records).toContain('the first minute is not over yet');
    const observer = new LiveState({ ...live, observe: true }, instant);
    observer.update({ state: state(START + 3 * MIN), expected, observed });
    expect(observer.message().charts!.records).toContain('not measured in observe mode');
  });

  it('latency so far: per kind, every expected alarm seen, against its SLA', () => {
    const s = new LiveState(live, instant);
    s.update({ state: state(START + 60 * MIN), expected, observed });
    const latency = s.message().charts!.latency;
    // Zone alarms: seen after 0.1 and 0.7 minutes; the curfew one after 7 (the replay and the spurious one do not count).
    expect(latency).toContain('data-kind="exclusion_zone_entry" data-under-fault="false" data-count="2"');
    expect(latency).toMatch(/data-kind="curfew_violation" data-under-fault="false" data-count="1" data-p50="420000" data-p95="420000" data-p99="420000" data-max="420000" data-sla-ms="240000"/);
  });

  it('the final message: run.json\'s verdict, ledger counts and judged latency', () => {
    const s = new LiveState(live, instant);
    s.update({ state: state(START + 60 * MIN), expected, observed });
    const m = s.final(run, '/runs/x');
    expect(m.type).toBe('final');
    expect(m.final).toEqual({ verdict: 'FAIL', runDir: '/runs/x', ledger: run.ledger, records: { made: run.completeness.recordsMade, stored: run.completeness.recordsStored } });
    expect(m.charts!.latency).toBe(latencyChart(run));
    expect(m.numbers['phase']).toBe('ended');
    expect(m.fields[0]).toEqual(['phase', 'ended: FAIL']);
  });

  it('draws again only as often as keeps it under 5% of the time: a slow drawing is reused a while', () => {
    let t = 0;
    // Each reading of the clock moves it 50 ms: a drawing "takes" 50 ms, so the next one waits a second.
    const s = new LiveState(live, () => (t += 50) - 50);
    s.update({ state: state(START + 20 * MIN), expected: expected.slice(0, 2), observed: observed.slice(0, 2) });
    const first = s.message().charts!;
    s.update({ state: state(START + 60 * MIN), expected, observed });
    const again = s.message();
    expect(again.charts).toBe(first);
    expect(again.numbers['virtual-now']).toBe(START + 60 * MIN);
    t += 1000;
    expect(s.message().charts!.alarms).toContain('data-total-expected="4"');
  });

  it('an observer\'s unknowns are said to be unknown, not zero', () => {
    const fields = Object.fromEntries(progressFields(state(START, { messagesPerSecond: null, devices: { connected: null, total: 32 }, unacked: null, harness: null })));
    expect(fields['messages']).toMatch(/^unknown/);
    expect(fields['devices']).toMatch(/^32, connected: unknown/);
    expect(fields['unacked']).toMatch(/^unknown/);
    expect(fields['harness']).toMatch(/^unknown/);
  });

  it("the harness's lag, and BEHIND when it is over the limit", () => {
    expect(Object.fromEntries(progressFields(state(START)))['harness']).toBe('lag 0.02 s');
    expect(Object.fromEntries(progressFields(state(START, { harness: { lagMs: 2500, behind: true } })))['harness']).toBe('BEHIND by 2.50 s');
  });
});
