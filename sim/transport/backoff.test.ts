import { describe, expect, it } from 'vitest';
import { fleetBackoff, redialDelayMs } from './backoff.ts';

describe('redial backoff', () => {
  it('spreads a large fleet\'s first redials over devices / rate seconds, after the minimum', () => {
    const delays = Array.from({ length: 15_000 }, (_, slot) => redialDelayMs(fleetBackoff(15_000, 3000, 2021, 1), `PSE-${slot}`, 0));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThan(6000);
    // Roughly uniform: each second of the 5-s window gets about a fifth (3,000 ± 10 %).
    for (let s = 1; s < 6; s++) {
      const n = delays.filter((d) => d >= s * 1000 && d < (s + 1) * 1000).length;
      expect(n).toBeGreaterThan(2700);
      expect(n).toBeLessThan(3300);
    }
  });

  it('keeps a small fleet\'s redials within 1–2 s', () => {
    const delays = Array.from({ length: 50 }, (_, slot) => redialDelayMs(fleetBackoff(50, 3000, 7, 1), `PSE-${slot}`, 0));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThan(2000);
  });

  it('doubles the window with every failed dial, up to the cap, and draws the same delays for the same seed', () => {
    const b = fleetBackoff(15_000, 3000, 2021, 1);
    const windows = [0, 1, 2, 3, 10].map((n) => Array.from({ length: 200 }, (_, slot) => redialDelayMs(fleetBackoff(15_000, 3000, 2021, 1), `PSE-${slot}`, n) - 1000));
    expect(Math.max(...(windows[1] as number[]))).toBeGreaterThan(5000);
    expect(Math.max(...(windows[1] as number[]))).toBeLessThan(10_000);
    expect(Math.max(...(windows[3] as number[]))).toBeGreaterThan(20_000);
    expect(Math.max(...(windows[4] as number[]))).toBeLessThanOrEqual(60_000);
    expect(redialDelayMs(b, 'PSE-42', 3)).toBe(redialDelayMs(fleetBackoff(15_000, 3000, 2021, 1), 'PSE-42', 3));
    expect(redialDelayMs(b, 'PSE-42', 3)).not.toBe(redialDelayMs(fleetBackoff(15_000, 3000, 2022, 1), 'PSE-42', 3));
    expect(redialDelayMs(b, 'PSE-42', 3)).not.toBe(redialDelayMs(b, 'PSE-43', 3));
  });

  it('caps the doubling at a minute of device time: at speed 60 a failed dial never waits past the fleet\'s spread', () => {
    const worst = (speed: number, attempt: number): number => Math.max(...Array.from({ length: 500 }, (_, slot) => redialDelayMs(fleetBackoff(15_000, 3000, 2021, speed), `PSE-${slot}`, attempt)));
    // Real time: 1 s + at most the 5 s spread of 15,000 devices at 3,000 dials/s, whatever the failures.
    expect(worst(60, 10)).toBeLessThanOrEqual(6000);
    expect(worst(60, 10)).toBeGreaterThan(5000);
    // At speed 1 the firmware's own minute applies.
    expect(worst(1, 10)).toBeGreaterThan(50_000);
    expect(worst(1, 10)).toBeLessThanOrEqual(61_000);
    // A small fleet at speed 120: 1 s + its 1-s window.
    expect(Math.max(...Array.from({ length: 50 }, (_, slot) => redialDelayMs(fleetBackoff(50, 3000, 7, 120), `PSE-${slot}`, 8)))).toBeLessThanOrEqual(2000);
  });
});
