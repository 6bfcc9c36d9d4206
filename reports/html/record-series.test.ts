import { describe, expect, it } from 'vitest';
import { START, recordLines, sampleRecords } from '../../test/support/sample-run.ts';
import { recordSeries, recordsFromJournal } from './record-series.ts';
import type { JournalLine } from '../run-dir.ts';

const MIN = 60_000;

describe('records sent vs stored, as a chart draws them', () => {
  it('one entry per minute from run.json\'s arrays, with its start time, and the totals', () => {
    const s = recordSeries(sampleRecords());
    expect(s.from).toBe(START);
    expect(s.until).toBe(START + 62 * MIN);
    expect(s.minutes).toHaveLength(62);
    expect(s.minutes[36]).toEqual({ from: START + 36 * MIN, sent: 5, resent: 30, stored: 55 });
    expect(s.totals).toEqual({ sent: 300, resent: 40, stored: 290 });
  });

  it('takes the fleet\'s live counts (start in virtual ms) as the dashboard has them; arrays of unequal length count as zeros', () => {
    const s = recordSeries({ from: START, minuteMs: MIN, sent: [1, 2, 3], resent: [0], stored: [1, 1] });
    expect(s.minutes.map((m) => [m.sent, m.resent, m.stored])).toEqual([[1, 0, 1], [2, 0, 1], [3, 0, 0]]);
    expect(s.totals).toEqual({ sent: 6, resent: 0, stored: 2 });
    expect(recordSeries({ from: START, minuteMs: MIN, sent: [], resent: [], stored: [] }).until).toBe(START + MIN);
  });

  it('the journal\'s per-minute lines give back run.json\'s arrays; torn or foreign lines are left out', () => {
    const lines = recordLines(sampleRecords()) as JournalLine[];
    expect(recordsFromJournal(lines)).toEqual(sampleRecords());
    const torn = [{ t: 'records', at: 0, minute: 3, from: START + 3 * MIN, sent: 'x' }, { t: 'expectation', at: 0, minute: 1 }, ...lines.slice(0, 5)] as JournalLine[];
    expect(recordsFromJournal(torn)?.sent).toEqual([5, 5, 5, 5, 5]);
    expect(recordsFromJournal([{ t: 'expectation', at: 0 }])).toBeUndefined();
  });

  it("the journal's lines give back the fleet's lag per minute too; without it on every line, none", () => {
    const withLag = { ...sampleRecords(), lagMs: sampleRecords().sent.map((_, m) => (m === 20 ? 2500 : 30)) };
    const lines = recordLines(withLag) as JournalLine[];
    expect(recordsFromJournal(lines)).toEqual(withLag);
    // A line without it (a journal of a Vigil before it) would read as a minute that kept pace: no lag at all instead.
    const mixed = [...lines.slice(0, 10), ...(recordLines(sampleRecords()) as JournalLine[]).slice(10)];
    expect(recordsFromJournal(mixed)?.lagMs).toBeUndefined();
  });

  it('a journal whose first minutes are missing still places each minute at its time', () => {
    const lines = (recordLines(sampleRecords()) as JournalLine[]).slice(10);
    const r = recordsFromJournal(lines)!;
    expect(r.from).toBe(new Date(START).toISOString());
    expect(r.sent.slice(0, 11)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
  });
});
