import { describe, expect, it } from 'vitest';
import { virtualClock } from './clock.ts';

describe('virtual clock', () => {
  it('runs virtual time at speed × real time from the triple', () => {
    let real = 1_000_000;
    const c = virtualClock({ startVirtual: 5_000, startReal: 1_000_000, speed: 60 }, () => real);
    expect(c.now()).toBe(5_000);
    real += 1_000;
    expect(c.now()).toBe(65_000);
    expect(c.realDelayUntil(125_000)).toBe(1_000);
    expect(c.toReal(60_000)).toBe(1_000);
  });

  it('refuses a speed that is not positive', () => {
    expect(() => virtualClock({ startVirtual: 0, startReal: 0, speed: 0 })).toThrow(/speed/);
  });
});
