import { describe, expect, it } from 'vitest';
import { START, sampleJournal } from '../../test/support/sample-run.ts';
import { alarmSeries } from './alarm-series.ts';
import type { JournalLine } from '../run-dir.ts';

const MIN = 60_000;
const journal = sampleJournal() as JournalLine[];

describe('alarms over time from the journal', () => {
  const s = alarmSeries(journal, { start: START, end: START + 60 * MIN });

  it('bins by the minute, expected by trigger time and detected by first arrival', () => {
    expect(s.binMs).toBe(MIN);
    expect(s.bins).toHaveLength(60);
    const nonEmpty = s.bins.filter((b) => b.expected > 0 || b.detected > 0).map((b) => [(b.from - START) / MIN, b.expected, b.detected]);
    expect(nonEmpty).toEqual([[3, 1, 1], [10, 1, 0], [11, 0, 1], [21, 1, 0], [40, 1, 0], [47, 0, 1]]);
  });

  it('counts a replayed alarm once and an unexpected one not at all', () => {
    expect(s.expected).toBe(4);
    expect(s.detected).toBe(3);
  });

  it('pending: triggered and not yet seen at the end of each bin; the dropped one stays', () => {
    const pendingAt = (m: number): number => s.bins[m]!.pending;
    expect([pendingAt(2), pendingAt(3), pendingAt(10), pendingAt(11), pendingAt(21), pendingAt(40), pendingAt(47), pendingAt(59)]).toEqual([0, 0, 1, 0, 1, 2, 1, 1]);
  });

  it('a long run grows its bins by whole minutes to keep at most 360', () => {
    const long = alarmSeries(journal, { start: START, end: START + 24 * 60 * MIN });
    expect(long.binMs).toBe(4 * MIN);
    expect(long.bins).toHaveLength(360);
    expect(long.bins.reduce((n, b) => n + b.expected, 0)).toBe(4);
  });

  it('stretches past the scenario end to the last arrival', () => {
    const short = alarmSeries(journal, { start: START, end: START + 30 * MIN });
    expect(short.until).toBe(START + 48 * MIN);
    expect(short.bins.reduce((n, b) => n + b.detected, 0)).toBe(3);
  });
});
