import { describe, expect, it } from 'vitest';
import { LocalTime, WindowCursor, WindowSchedule, isoWeekday } from './local-windows.ts';
import { at, HOUR, MIN } from './testkit.ts';

const paris = new LocalTime('Europe/Paris');
const dayOf = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / 86_400_000;
const win = (from: string, to: string, days = [1, 2, 3, 4, 5, 6, 7], crossesMidnight = to <= from) => ({ days, from, to, crossesMidnight });

describe('local wall time → instant (RULES.md "Local-time windows")', () => {
  it('takes the first instant after the spring-forward gap for a local time that does not exist', () => {
    const wall = (hh: number, mm: number): number => dayOf(2021, 3, 28) * 86_400_000 + (hh * 60 + mm) * MIN;
    expect(paris.instantOf(wall(2, 30))).toBe(at('2021-03-28T03:00:00+02:00'));
    expect(paris.instantOf(wall(2, 0))).toBe(at('2021-03-28T03:00:00+02:00'));
    expect(paris.instantOf(wall(1, 59))).toBe(at('2021-03-28T01:59:00+01:00'));
    expect(paris.instantOf(wall(3, 0))).toBe(at('2021-03-28T03:00:00+02:00'));
  });

  it('takes the earlier instant for a local time that exists twice (fall-back)', () => {
    const wall = (hh: number, mm: number): number => dayOf(2021, 10, 31) * 86_400_000 + (hh * 60 + mm) * MIN;
    expect(paris.instantOf(wall(2, 30))).toBe(at('2021-10-31T02:30:00+02:00'));
    expect(paris.instantOf(wall(2, 0))).toBe(at('2021-10-31T02:00:00+02:00'));
    expect(paris.instantOf(wall(3, 0))).toBe(at('2021-10-31T03:00:00+01:00'));
  });

  it('counts ISO weekdays from Monday = 1', () => {
    expect(isoWeekday(dayOf(2021, 10, 25))).toBe(1); // Monday 25 October 2021
    expect(isoWeekday(dayOf(2021, 10, 31))).toBe(7);
    expect(isoWeekday(dayOf(1969, 12, 29))).toBe(1);
    expect(paris.dayOf(at('2021-10-30T23:30:00+02:00'))).toBe(dayOf(2021, 10, 30));
    expect(paris.dayOf(at('2021-10-31T00:00:00+02:00'))).toBe(dayOf(2021, 10, 31));
  });
});

describe('windows on the DST nights', () => {
  it('a 20:00 → 07:00 curfew lasts 10 h on 27–28 March 2021 and 12 h on 30–31 October 2021', () => {
    const s = new WindowSchedule([win('20:00', '07:00', [6])], paris); // Saturday nights
    const [spring] = s.openingOn(dayOf(2021, 3, 27));
    expect(spring).toEqual({ open: at('2021-03-27T20:00:00+01:00'), close: at('2021-03-28T07:00:00+02:00') });
    expect(spring!.close - spring!.open).toBe(10 * HOUR);
    const [fall] = s.openingOn(dayOf(2021, 10, 30));
    expect(fall).toEqual({ open: at('2021-10-30T20:00:00+02:00'), close: at('2021-10-31T07:00:00+01:00') });
    expect(fall!.close - fall!.open).toBe(12 * HOUR);
    expect(s.openingOn(dayOf(2021, 10, 31))).toEqual([]); // Sunday is not listed
  });

  it('a 01:30 → 02:30 window is 30 min on the spring night (02:30 does not exist) and 1 h on the fall-back night', () => {
    const s = new WindowSchedule([win('01:30', '02:30', [7])], paris);
    expect(s.openingOn(dayOf(2021, 3, 28))).toEqual([{ open: at('2021-03-28T01:30:00+01:00'), close: at('2021-03-28T03:00:00+02:00') }]);
    expect(s.openingOn(dayOf(2021, 10, 31))).toEqual([{ open: at('2021-10-31T01:30:00+02:00'), close: at('2021-10-31T02:30:00+02:00') }]);
    const c = new WindowCursor(s);
    expect(c.at(at('2021-03-28T01:59:59.999+01:00'))).toHaveLength(1);
    expect(c.at(at('2021-03-28T03:00:00+02:00'))).toHaveLength(0);
    expect(c.at(at('2021-10-31T02:15:00+02:00'))).toHaveLength(1);
    expect(c.at(at('2021-10-31T02:15:00+01:00'))).toHaveLength(0); // the second 02:15 is after the close
  });

  it('a window wholly inside the spring gap is never open; one starting in it opens at 03:00', () => {
    expect(new WindowSchedule([win('02:10', '02:40', [7])], paris).openingOn(dayOf(2021, 3, 28))).toEqual([]);
    expect(new WindowSchedule([win('02:30', '04:00', [7])], paris).openingOn(dayOf(2021, 3, 28)))
      .toEqual([{ open: at('2021-03-28T03:00:00+02:00'), close: at('2021-03-28T04:00:00+02:00') }]);
  });

  it('the cursor answers open ≤ t < close, across midnight, whatever order it is asked in', () => {
    const s = new WindowSchedule([win('20:00', '07:00'), win('12:00', '13:00', [1])], paris);
    const c = new WindowCursor(s);
    const fresh = (t: number): number => new WindowCursor(s).at(t).length;
    const probes = [
      ['2021-10-25T19:59:59.999+02:00', 0], ['2021-10-25T20:00:00+02:00', 1], ['2021-10-25T23:59:59.999+02:00', 1],
      ['2021-10-26T00:00:00+02:00', 1], ['2021-10-26T06:59:59.999+02:00', 1], ['2021-10-26T07:00:00+02:00', 0],
      ['2021-10-25T12:00:00+02:00', 1], ['2021-10-25T13:00:00+02:00', 0], ['2021-10-26T12:30:00+02:00', 0],
      ['2021-10-31T06:30:00+01:00', 1], ['2021-10-31T07:00:00+01:00', 0],
    ] as const;
    for (const [iso, n] of probes) expect([iso, c.at(at(iso)).length]).toEqual([iso, n]);
    for (const [iso, n] of [...probes].reverse()) expect([iso, c.at(at(iso)).length, fresh(at(iso))]).toEqual([iso, n, n]);
  });
});
