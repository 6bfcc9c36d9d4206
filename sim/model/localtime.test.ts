import { describe, expect, it } from 'vitest';
import { dayOf, isoWeekday, localDay, localInstant, periodsOnDay, Periods } from './localtime.ts';

const H = 3_600_000;
const curfew = { days: [1, 2, 3, 4, 5, 6, 7], from: '20:00', to: '07:00', crossesMidnight: true };

describe('local time in Europe/Paris (docs/RULES.md "Local-time windows")', () => {
  it('maps local times to instants with the offset of the day', () => {
    expect(localInstant(dayOf(2021, 10, 25), 16 * 60 + 10)).toBe(Date.parse('2021-10-25T14:10:00Z'));
    expect(localInstant(dayOf(2021, 1, 15), 20 * 60)).toBe(Date.parse('2021-01-15T19:00:00Z'));
    expect(localDay(Date.parse('2021-10-25T22:30:00Z'))).toBe(dayOf(2021, 10, 26)); // 00:30 local
    expect(isoWeekday(dayOf(2021, 10, 25))).toBe(1); // a Monday
    expect(isoWeekday(dayOf(2021, 10, 31))).toBe(7);
  });

  it('takes the first instant after the spring-forward gap, and the earlier of a repeated time', () => {
    expect(localInstant(dayOf(2021, 3, 28), 2 * 60 + 30)).toBe(Date.parse('2021-03-28T01:00:00Z')); // 03:00 CEST
    expect(localInstant(dayOf(2021, 3, 28), 3 * 60)).toBe(Date.parse('2021-03-28T01:00:00Z'));
    expect(localInstant(dayOf(2021, 10, 31), 2 * 60 + 30)).toBe(Date.parse('2021-10-31T00:30:00Z')); // 02:30 CEST
    expect(localInstant(dayOf(2021, 10, 31), 3 * 60)).toBe(Date.parse('2021-10-31T02:00:00Z')); // 03:00 CET
  });

  it('makes the 20:00 → 07:00 curfew 10 h on 27–28 March 2021 and 12 h on 30–31 October 2021', () => {
    const [spring] = periodsOnDay([curfew], dayOf(2021, 3, 27));
    expect(spring).toEqual({ open: Date.parse('2021-03-27T19:00:00Z'), close: Date.parse('2021-03-28T05:00:00Z') });
    expect((spring!.close - spring!.open) / H).toBe(10);
    const [autumn] = periodsOnDay([curfew], dayOf(2021, 10, 30));
    expect((autumn!.close - autumn!.open) / H).toBe(12);
    expect(autumn!.open).toBe(Date.parse('2021-10-30T18:00:00Z'));
  });

  it('lists periods lazily, on the window\'s weekdays only', () => {
    const weekdays = new Periods([{ ...curfew, days: [1, 2, 3, 4, 5] }], dayOf(2021, 10, 29)); // from Friday
    const periods = Array.from({ length: 3 }, () => {
      const p = [weekdays.nextOpen(), weekdays.nextClose()].map((t) => new Date(t).toISOString());
      weekdays.pop();
      return p;
    });
    expect(periods).toEqual([
      ['2021-10-29T18:00:00.000Z', '2021-10-30T05:00:00.000Z'],
      ['2021-11-01T19:00:00.000Z', '2021-11-02T06:00:00.000Z'],
      ['2021-11-02T19:00:00.000Z', '2021-11-03T06:00:00.000Z'],
    ]);
    // Periods that closed by t are dropped; what is left is the one open at t or the next to open.
    expect(new Date(weekdays.skipClosed(Date.parse('2021-11-04T05:00:00Z'))).toISOString()).toBe('2021-11-03T19:00:00.000Z');
    expect(new Date(weekdays.skipClosed(Date.parse('2021-11-04T06:00:00Z'))).toISOString()).toBe('2021-11-04T19:00:00.000Z');
    const empty = new Periods([], 0);
    expect([empty.nextOpen(), empty.nextClose(), empty.skipClosed(0)]).toEqual([Infinity, Infinity, Infinity]);
  });
});
