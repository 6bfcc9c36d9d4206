import { describe, expect, it } from 'vitest';
import { hashString, nextPoisson, poissonCount, rng } from './random.ts';

describe('seeded randomness', () => {
  it('stays bit-for-bit stable: a scenario seed is evidence', () => {
    // Values of the first implementation (closures); the class must give the same stream.
    const r = rng(42, 'device', 7);
    expect([r.next(), r.next()]).toEqual([0.454068609746173, 0.7253257781267166]);
    expect(r.between(3, 9)).toBe(6.3209867547266185);
    expect(r.int(1, 6)).toBe(1);
    expect(r.chance(0.5)).toBe(false);
    expect(r.pick(['a', 'b', 'c'])).toBe('a');
    expect(r.normal()).toBe(0.044575207389075285);
    expect(r.uint32()).toBe(757988883);
    expect(hashString('PSEM-00001')).toBe(760592374);
    expect(rng(1).next()).toBe(0.9428799471352249);
  });

  it('draws Poisson gaps and counts with the asked mean', () => {
    const r = rng(3, 'poisson');
    let t = 0;
    for (let i = 0; i < 20_000; i++) t = nextPoisson(r, t, 4);
    expect(t / 86_400_000 / 20_000).toBeCloseTo(0.25, 2);
    expect(nextPoisson(r, 5, 0)).toBe(Infinity);
    let n = 0;
    for (let i = 0; i < 20_000; i++) n += poissonCount(r, 1.3);
    expect(n / 20_000).toBeCloseTo(1.3, 1);
    expect(poissonCount(r, 0)).toBe(0);
  });
});
