import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { virtualClock } from '../../protocol/clock.ts';
import { RecordMinutes, MINUTE_MS } from '../../sim/record-minutes.ts';
import { RecordMinutesJournal, recordsForRunJson, recordsOf } from './record-journal.ts';

const T0 = Date.UTC(2021, 9, 25, 14);

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('records per minute into the journal', () => {
  it('journals a minute one look after it ended, once, and the rest at the end from the final counts', () => {
    // Speed 60: one virtual minute per real second.
    const clock = virtualClock({ startVirtual: T0, startReal: Date.now(), speed: 60 });
    const minutes = new RecordMinutes(T0);
    const lines: Record<string, unknown>[] = [];
    const journal = new RecordMinutesJournal(() => minutes.counts(), clock, (e) => lines.push(e as Record<string, unknown>));
    minutes.published(T0 + 1000, 4, 0);
    minutes.lagged(T0 + 1000, 120);
    vi.advanceTimersByTime(1000); // virtual T0+1 min: minute 0 just ended, not settled yet
    expect(lines).toEqual([]);
    minutes.stored(T0 + MINUTE_MS - 1, 3); // a late count of minute 0 (a shard's state on its way)
    minutes.published(T0 + MINUTE_MS + 5, 2, 1);
    vi.advanceTimersByTime(1000); // T0+2 min: minute 0 settled
    expect(lines).toEqual([{ t: 'records', at: T0 + 2 * MINUTE_MS, minute: 0, from: T0, sent: 4, resent: 0, stored: 3, lagMs: 120 }]);
    minutes.stored(T0 + 2 * MINUTE_MS + 1, 6);
    vi.advanceTimersByTime(500);
    journal.finish(minutes.counts());
    expect(lines.slice(1).map((l) => [l['minute'], l['sent'], l['resent'], l['stored']])).toEqual([[1, 2, 1, 0], [2, 0, 0, 6]]);
    vi.advanceTimersByTime(5000);
    expect(lines).toHaveLength(3);
  });

  it('gives run.json the counts with the start as an ISO time', () => {
    const m = new RecordMinutes(T0);
    m.published(T0, 1, 2);
    expect(recordsForRunJson(m.counts())).toEqual({ from: '2021-10-25T14:00:00.000Z', minuteMs: MINUTE_MS, sent: [1], resent: [2], stored: [0], lagMs: [0] });
  });

  it('adds the real devices\' counts to the fleet\'s, either of them possibly not started yet', () => {
    const fleet = new RecordMinutes(T0);
    const hil = new RecordMinutes(T0);
    fleet.published(T0 + 10, 3, 1);
    hil.published(T0 + MINUTE_MS + 10, 2, 0);
    hil.stored(T0 + 20, 1);
    fleet.lagged(T0 + 10, 45); // the fleet's lag stands: the real devices' minutes have none
    expect(recordsOf(fleet.counts(), hil.counts())).toEqual({ from: T0, minuteMs: MINUTE_MS, sent: [3, 2], resent: [1, 0], stored: [1, 0], lagMs: [45, 0] });
    expect(recordsOf(undefined, hil.counts())).toEqual(hil.counts());
    expect(recordsOf(undefined, undefined)).toBeUndefined();
  });
});
