import { describe, expect, it } from 'vitest';
import { evaluateCurfew, newCurfewState, type CurfewAlarmKind, type CurfewState } from './curfew.ts';
import { LocalTime, Schedule } from './windows.ts';

const curfew = new Schedule([{ days: [1, 2, 3, 4, 5, 6, 7], from: '20:00', to: '07:00', crossesMidnight: true }], new LocalTime('Europe/Paris'));
const at = (iso: string): number => Date.parse(iso);

/** Runs records (ISO time, event or null for a heartbeat/position) through one device's state. */
function run(records: [string, string | null][], s: CurfewState = newCurfewState()): (CurfewAlarmKind | null)[] {
  return records.map(([iso, event]) => evaluateCurfew(s, curfew, at(iso), event));
}

describe('curfew_absence and late_return', () => {
  it('fall-back morning (31 Oct 2021, period 12 h): an rf_absent at 06:30 local is inside, at 07:00 it is not', () => {
    // 06:30 CET = 05:30Z, 07:00 CET = 06:00Z.
    expect(run([['2021-10-31T05:30:00Z', 'rf_absent']])).toEqual(['curfew_absence']);
    expect(run([['2021-10-31T06:00:00Z', 'rf_absent'], ['2021-10-31T06:05:00Z', null]])).toEqual([null, null]);
    // 20:00 CEST the evening before (18:00Z) is inside, 19:59 is not.
    expect(run([['2021-10-30T17:59:00Z', 'rf_absent']])).toEqual([null]);
    expect(run([['2021-10-30T18:00:00Z', 'rf_absent']])).toEqual(['curfew_absence']);
  });

  it('spring-forward night (27–28 Mar 2021, period 10 h): 06:30 CEST is inside, 07:00 CEST is not', () => {
    expect(run([['2021-03-28T04:30:00Z', 'rf_absent']])).toEqual(['curfew_absence']);
    expect(run([['2021-03-28T05:00:00Z', 'rf_absent']])).toEqual([null]);
    // 20:00 CET (19:00Z) opens it.
    expect(run([['2021-03-27T18:59:59Z', 'rf_absent'], ['2021-03-27T19:00:00Z', null]])).toEqual([null, 'late_return']);
  });

  it('late_return when the wearer was out before the period opened; curfew_absence when leaving during it', () => {
    expect(run([
      ['2021-10-25T16:30:00Z', 'rf_absent'], // 18:30 local: out before the curfew
      ['2021-10-25T17:59:00Z', null], // 19:59: no curfew yet
      ['2021-10-25T18:00:00Z', null], // 20:00: the first record inside the period
      ['2021-10-25T18:01:00Z', null], // still out: one alarm per period
      ['2021-10-25T19:00:00Z', 'rf_present'],
    ])).toEqual([null, null, 'late_return', null, null]);
    // Leaving exactly when the period opens is not "before it opened".
    expect(run([['2021-10-25T18:00:00Z', 'rf_absent']])).toEqual(['curfew_absence']);
  });

  it('leave, return, leave in one period: two curfew_absence alarms', () => {
    expect(run([
      ['2021-10-25T20:00:00Z', 'rf_absent'],
      ['2021-10-25T20:01:00Z', null],
      ['2021-10-25T21:00:00Z', 'rf_present'],
      ['2021-10-25T21:30:00Z', null],
      ['2021-10-25T22:00:00Z', 'rf_absent'],
      ['2021-10-25T22:01:00Z', 'rf_absent'], // a repeated rf_absent changes nothing
    ])).toEqual(['curfew_absence', null, null, null, 'curfew_absence', null]);
  });

  it('a new period starts with no alarm open: still out the next night is a late_return', () => {
    const s = newCurfewState();
    expect(run([
      ['2021-10-25T20:00:00Z', 'rf_absent'],
      ['2021-10-26T10:00:00Z', null], // next day, no curfew
      ['2021-10-26T18:00:00Z', null], // next period opens: out since the night before
      ['2021-10-26T18:30:00Z', null],
    ], s)).toEqual(['curfew_absence', null, 'late_return', null]);
    // The start of the absence did not move.
    expect(s.absentSince).toBe(at('2021-10-25T20:00:00Z'));
  });

  it('presence is tracked outside curfews and without any curfew, but raises nothing there', () => {
    const s = newCurfewState();
    expect(evaluateCurfew(s, null, at('2021-10-25T20:00:00Z'), 'rf_absent')).toBeNull();
    expect(s.absent).toBe(true);
    expect(evaluateCurfew(s, null, at('2021-10-25T21:00:00Z'), 'rf_present')).toBeNull();
    expect(s.absent).toBe(false);
    expect(run([['2021-10-25T10:00:00Z', 'rf_absent'], ['2021-10-25T11:00:00Z', 'rf_present'], ['2021-10-25T18:30:00Z', null]]))
      .toEqual([null, null, null]);
  });

  it('other events (curfew_start among them) do not change presence', () => {
    expect(run([['2021-10-25T18:00:00Z', 'curfew_start'], ['2021-10-25T18:01:00Z', 'strap_tamper'], ['2021-10-25T18:02:00Z', null]]))
      .toEqual([null, null, null]);
  });
});
