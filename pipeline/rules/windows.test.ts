import { describe, expect, it } from 'vitest';
import { LocalTime, Schedule, Schedules, isoWeekday } from './windows.ts';

const paris = new LocalTime('Europe/Paris');
const at = (iso: string): number => Date.parse(iso);
const H = 3_600_000;
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const curfew = new Schedule([{ days: EVERY_DAY, from: '20:00', to: '07:00', crossesMidnight: true }], paris);

describe('local times → instants (Europe/Paris)', () => {
  it('a time that exists once', () => {
    expect(paris.instant(at('2021-06-01T20:00:00Z'))).toBe(at('2021-06-01T18:00:00Z')); // CEST, +2
    expect(paris.instant(at('2021-12-01T20:00:00Z'))).toBe(at('2021-12-01T19:00:00Z')); // CET, +1
  });

  it('a time in the spring-forward gap is the first instant after it (03:00 CEST)', () => {
    for (const local of ['2021-03-28T02:00:00Z', '2021-03-28T02:30:00Z', '2021-03-28T02:59:00Z']) {
      expect(paris.instant(at(local)), local).toBe(at('2021-03-28T01:00:00Z'));
    }
    expect(paris.instant(at('2021-03-28T01:59:00Z'))).toBe(at('2021-03-28T00:59:00Z'));
    expect(paris.instant(at('2021-03-28T03:00:00Z'))).toBe(at('2021-03-28T01:00:00Z'));
  });

  it('a time in the fall-back hour is the earlier instant (CEST)', () => {
    expect(paris.instant(at('2021-10-31T02:00:00Z'))).toBe(at('2021-10-31T00:00:00Z'));
    expect(paris.instant(at('2021-10-31T02:30:00Z'))).toBe(at('2021-10-31T00:30:00Z'));
    expect(paris.instant(at('2021-10-31T03:00:00Z'))).toBe(at('2021-10-31T02:00:00Z'));
  });

  it('ISO weekdays of local days', () => {
    expect(isoWeekday(paris.dayOf(at('2021-10-25T12:00:00Z')))).toBe(1); // Monday of the 2021 incident
    expect(isoWeekday(paris.dayOf(at('2021-10-31T12:00:00Z')))).toBe(7);
    // 23:30 UTC on Sunday is 00:30 on Monday in Paris.
    expect(isoWeekday(paris.dayOf(at('2021-10-24T22:30:00Z')))).toBe(1);
  });
});

describe('a 20:00 → 07:00 curfew across DST nights', () => {
  it('lasts 10 h on 27–28 March 2021 and 12 h on 30–31 October 2021, 11 h otherwise', () => {
    expect(curfew.periodAt(at('2021-03-27T22:00:00Z'))).toEqual({ open: at('2021-03-27T19:00:00Z'), close: at('2021-03-28T05:00:00Z') });
    expect(curfew.periodAt(at('2021-10-30T22:00:00Z'))).toEqual({ open: at('2021-10-30T18:00:00Z'), close: at('2021-10-31T06:00:00Z') });
    const spring = curfew.periodAt(at('2021-03-27T22:00:00Z'))!;
    const fall = curfew.periodAt(at('2021-10-30T22:00:00Z'))!;
    const plain = curfew.periodAt(at('2021-10-25T22:00:00Z'))!;
    expect([spring.close - spring.open, fall.close - fall.open, plain.close - plain.open]).toEqual([10 * H, 12 * H, 11 * H]);
  });

  it('open ≤ t < close, at both ends', () => {
    const open = at('2021-10-30T18:00:00Z');
    const close = at('2021-10-31T06:00:00Z'); // 07:00 CET
    expect(curfew.periodAt(open - 1)).toBeNull();
    expect(curfew.periodAt(open)?.open).toBe(open);
    expect(curfew.periodAt(close - 1)?.close).toBe(close);
    expect(curfew.periodAt(close)).toBeNull();
    // 06:30 local on the fall-back morning (CET) is inside.
    expect(curfew.periodAt(at('2021-10-31T05:30:00Z'))).not.toBeNull();
  });

  it('the morning part belongs to the period that opened the evening before', () => {
    expect(curfew.periodAt(at('2021-03-28T04:59:59Z'))?.open).toBe(at('2021-03-27T19:00:00Z'));
    expect(curfew.periodAt(at('2021-03-28T05:00:00Z'))).toBeNull(); // 07:00 CEST
    expect(curfew.periodAt(at('2021-03-28T12:00:00Z'))).toBeNull();
  });
});

describe('windows', () => {
  it('apply only on their weekdays; crossing midnight closes on the next day', () => {
    // Friday nights only: Fri 22:00 → Sat 06:00 (October 2021: CEST, +2).
    const s = new Schedule([{ days: [5], from: '22:00', to: '06:00', crossesMidnight: true }], paris);
    expect(s.periodAt(at('2021-10-22T21:00:00Z'))).toEqual({ open: at('2021-10-22T20:00:00Z'), close: at('2021-10-23T04:00:00Z') });
    expect(s.periodAt(at('2021-10-23T03:59:00Z'))).not.toBeNull(); // Saturday morning, still Friday's period
    expect(s.periodAt(at('2021-10-23T21:00:00Z'))).toBeNull(); // Saturday night
    expect(s.periodAt(at('2021-10-21T21:00:00Z'))).toBeNull(); // Thursday night
  });

  it('overlapping windows: the earliest-opening period that contains t', () => {
    const s = new Schedule([
      { days: EVERY_DAY, from: '08:00', to: '12:00', crossesMidnight: false },
      { days: EVERY_DAY, from: '10:00', to: '14:00', crossesMidnight: false },
    ], paris);
    expect(s.periodAt(at('2021-06-01T09:00:00Z'))?.open).toBe(at('2021-06-01T06:00:00Z'));
    expect(s.periodAt(at('2021-06-01T10:30:00Z'))?.open).toBe(at('2021-06-01T08:00:00Z'));
  });

  it('many days in any order give the same answers as a fresh schedule (the day cache)', () => {
    const s = new Schedule([{ days: [1, 3, 5], from: '20:00', to: '07:00', crossesMidnight: true }], paris);
    const times = Array.from({ length: 200 }, (_, i) => at('2021-10-20T00:00:00Z') + ((i * 7919) % 400) * 1_800_000);
    for (const t of times) {
      const fresh = new Schedule([{ days: [1, 3, 5], from: '20:00', to: '07:00', crossesMidnight: true }], paris);
      expect(s.periodAt(t)).toEqual(fresh.periodAt(t));
    }
  });

  it('devices with the same windows share one schedule', () => {
    const s = new Schedules('Europe/Paris');
    const w = [{ days: EVERY_DAY, from: '20:00', to: '07:00', crossesMidnight: true }];
    expect(s.get(w)).toBe(s.get([{ ...w[0]! }]));
    expect(s.get(w)).not.toBe(s.get([{ ...w[0]!, to: '06:00' }]));
  });
});
