import { describe, expect, it } from 'vitest';
import { summaryText } from './summary.ts';
import { sampleRun } from '../test/support/sample-run.ts';
import type { RunResult } from './run-result.ts';

const harnessOf = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('harness:') || l.startsWith('  every SLA') || /^ {2}\d+ of the \d+ late/.test(l));

describe('the summary says whether the harness kept its clock', () => {
  it('a harness that fell behind: its spans, its worst lag, and how many failures may be its own, under the alarm counts', () => {
    const run: RunResult = {
      ...sampleRun(),
      harness: {
        lagMaxMs: 2560, limitMs: 30_000, behindMinutes: 4, failures: 2, failuresWhileBehind: 1,
        behind: [{ from: '2021-10-25T12:10:00.000Z', until: '2021-10-25T12:13:00.000Z', lagMaxMs: 2560 }, { from: '2021-10-25T12:30:00.000Z', until: '2021-10-25T12:31:00.000Z', lagMaxMs: 1200 }],
      },
    };
    const text = summaryText(run, '/tmp/no-such-run');
    const lines = text.split('\n');
    expect(lines[2]).toBe('harness: BEHIND its clock by more than 30 s (virtual) in 4 minutes: 12:10–12:13Z (2.56 s), 12:30–12:31Z (1.20 s); at worst 2.56 s real (10 min 14 s of virtual time)');
    expect(lines[3]).toMatch(/^ {2}1 of the 2 late, dropped or spurious alarms had such a minute before their deadline: they may be the harness's failures, not the pipeline's — run again at a lower --speed \(this run: 240\)/);
  });

  it('a harness that kept pace says so once, and a run that passed with its harness behind says what it does not show', () => {
    const kept = summaryText({ ...sampleRun(), harness: { lagMaxMs: 40, limitMs: 30_000, behindMinutes: 0, behind: [], failures: 2, failuresWhileBehind: 0 } }, '/tmp/no-such-run');
    expect(harnessOf(kept)).toEqual(['harness: kept its clock: devices woken at most 0.04 s real (10 s of virtual time) after they were due (limit 30 s virtual)']);
    const passed = summaryText({ ...sampleRun(), verdict: 'PASS', harness: { lagMaxMs: 900, limitMs: 30_000, behindMinutes: 1, behind: [{ from: '2021-10-25T12:10:00.000Z', until: '2021-10-25T12:11:00.000Z', lagMaxMs: 900 }], failures: 0, failuresWhileBehind: 0 } }, '/tmp/no-such-run');
    expect(passed).toContain('\n  every SLA was met, but in those minutes the load came late and lighter than the scenario asks: this run does not show the pipeline carries its full rate — run again at a lower --speed (this run: 240)');
  });

  it('a run.json from before the harness pace still gives its worst lag', () => {
    const old = summaryText({ ...sampleRun(), fleet: { ...sampleRun().fleet, wakeLagMaxMs: 1500 } }, '/tmp/no-such-run');
    expect(harnessOf(old)).toEqual(['harness: devices woken at most 1.50 s (real) after they were due — 6 min 0 s of virtual time: delays the pipeline did not cause']);
  });
});
