import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MINUTE_MS, RecordMinutes, sumRecordMinutes } from './record-minutes.ts';

const T0 = Date.UTC(2021, 9, 25, 14);
const sum = (a: readonly number[]): number => a.reduce((n, x) => n + x, 0);

describe('records sent, resent and stored per virtual minute', () => {
  it('counts each publish and ack in the minute it happened, minute 0 from the timeline start', () => {
    const m = new RecordMinutes(T0);
    m.published(T0, 3, 0);
    m.published(T0 + MINUTE_MS - 1, 1, 2);
    m.published(T0 + MINUTE_MS, 5, 0);
    m.stored(T0 + 3 * MINUTE_MS + 10, 7);
    expect(m.counts()).toEqual({ from: T0, minuteMs: MINUTE_MS, sent: [4, 5, 0, 0], resent: [2, 0, 0, 0], stored: [0, 0, 0, 7], lagMs: [0, 0, 0, 0] });
  });

  it('puts anything before the start into minute 0, and its copy does not move when counting goes on', () => {
    const m = new RecordMinutes(T0);
    m.stored(T0 - 5000, 2);
    const before = m.counts();
    m.stored(T0 + 10, 1);
    expect(before.stored).toEqual([2]);
    expect(m.counts().stored).toEqual([3]);
  });

  it('keeps every count: the minutes sum to what went in, whatever the order of the events', () => {
    const event = fc.record({ at: fc.integer({ min: T0 - MINUTE_MS, max: T0 + 120 * MINUTE_MS }), fresh: fc.nat(20), again: fc.nat(20), stored: fc.nat(20) });
    fc.assert(fc.property(fc.array(event, { maxLength: 200 }), (events) => {
      const m = new RecordMinutes(T0);
      for (const e of events) {
        m.published(e.at, e.fresh, e.again);
        m.stored(e.at, e.stored);
      }
      const c = m.counts();
      expect([sum(c.sent), sum(c.resent), sum(c.stored)]).toEqual([sum(events.map((e) => e.fresh)), sum(events.map((e) => e.again)), sum(events.map((e) => e.stored))]);
      expect(c.resent.length).toBe(c.sent.length);
      expect(c.stored.length).toBe(c.sent.length);
      for (const e of events) expect(c.sent.length).toBeGreaterThan(Math.max(0, Math.floor((e.at - T0) / MINUTE_MS)));
    }));
  });

  it("keeps each minute's worst wake lag, in the minute the wake happened", () => {
    const m = new RecordMinutes(T0);
    m.lagged(T0 + 10, 30);
    m.lagged(T0 + 20, 12);
    m.lagged(T0 + 2 * MINUTE_MS, 900);
    m.published(T0 + 3 * MINUTE_MS, 1, 0);
    expect(m.counts().lagMs).toEqual([30, 0, 900, 0]);
  });

  it('sums the shards of a --workers fleet minute by minute, however far each got', () => {
    const a = new RecordMinutes(T0);
    const b = new RecordMinutes(T0);
    a.published(T0, 1, 0);
    b.published(T0 + 2 * MINUTE_MS, 2, 1);
    b.stored(T0 + 10, 4);
    a.lagged(T0 + 2 * MINUTE_MS, 40);
    b.lagged(T0 + 2 * MINUTE_MS + 5, 25);
    b.lagged(T0, 7);
    expect(sumRecordMinutes([a.counts(), b.counts()])).toEqual({ from: T0, minuteMs: MINUTE_MS, sent: [1, 0, 2], resent: [0, 0, 1], stored: [4, 0, 0], lagMs: [7, 0, 40] });
    expect(sumRecordMinutes([])).toBeUndefined();
  });
});
