import { describe, expect, it } from 'vitest';
import { evaluateBattery, type BatteryState } from './low-battery.ts';

const run = (levels: number[], s: BatteryState = { batteryLow: false }): number[] =>
  levels.flatMap((b, i) => (evaluateBattery(s, b) ? [i] : []));

describe('low_battery', () => {
  it('raises at 15, not at 16', () => {
    expect(run([16, 16])).toEqual([]);
    expect(run([16, 15])).toEqual([1]);
    expect(run([3])).toEqual([0]); // a first record already low
  });

  it('a battery hovering at 15 raises once', () => {
    expect(run([17, 15, 16, 15, 14, 16, 15, 29, 15, 15])).toEqual([1]);
  });

  it('clears only at 30: 29 keeps it low, 30 re-arms', () => {
    expect(run([15, 29, 15])).toEqual([0]);
    expect(run([15, 30, 15])).toEqual([0, 2]);
    expect(run([10, 100, 80, 15])).toEqual([0, 3]);
  });

  it('a state restored as low does not raise again', () => {
    expect(run([5], { batteryLow: true })).toEqual([]);
  });
});
