import { describe, expect, it } from 'vitest';
import { evaluateMass, massThreshold, newMassState } from './mass-communication-loss.ts';

const DEFAULT = { share: 0.1, minDevices: 5 };

describe('mass_communication_loss threshold K', () => {
  it('is ⌈share × N⌉, at least minDevices', () => {
    expect(massThreshold(15_000, DEFAULT)).toBe(1500);
    expect(massThreshold(101, DEFAULT)).toBe(11);
    expect(massThreshold(100, DEFAULT)).toBe(10);
    expect(massThreshold(20, DEFAULT)).toBe(5); // ⌈2⌉ < minDevices
    expect(massThreshold(3, DEFAULT)).toBe(5); // K > N
  });

  it('takes the ceiling of the exact decimal product, not of the float one', () => {
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(massThreshold(100, { share: 0.07, minDevices: 1 })).toBe(7);
    expect(massThreshold(101, { share: 0.07, minDevices: 1 })).toBe(8);
    expect(massThreshold(7, { share: 0.7, minDevices: 1 })).toBe(5); // 0.7 × 7 = 4.9
    expect(massThreshold(10, { share: 1, minDevices: 1 })).toBe(10);
  });
});

describe('mass_communication_loss and recovery', () => {
  it('raises exactly when S reaches K, once while open', () => {
    const s = newMassState(100, DEFAULT); // K = 10
    s.silent = 9;
    expect(evaluateMass(s)).toBeNull();
    s.silent = 10;
    expect(evaluateMass(s)).toEqual({ kind: 'mass_communication_loss', seq: 1 });
    expect(evaluateMass(s)).toBeNull();
    s.silent = 60;
    expect(evaluateMass(s)).toBeNull();
  });

  it('recovers only when S falls to ⌊K/2⌋ (hysteresis), with the loss\'s seq; the next outage is seq 2', () => {
    const s = newMassState(100, { share: 0.09, minDevices: 1 }); // K = 9, ⌊K/2⌋ = 4
    s.silent = 9;
    expect(evaluateMass(s)?.seq).toBe(1);
    for (const n of [8, 5, 9, 5]) {
      s.silent = n;
      expect(evaluateMass(s)).toBeNull();
    }
    s.silent = 4;
    expect(evaluateMass(s)).toEqual({ kind: 'mass_communication_recovery', seq: 1 });
    s.silent = 0;
    expect(evaluateMass(s)).toBeNull();
    s.silent = 8;
    expect(evaluateMass(s)).toBeNull(); // below K again: no loss
    s.silent = 9;
    expect(evaluateMass(s)).toEqual({ kind: 'mass_communication_loss', seq: 2 });
    s.silent = 0; // a jump straight to 0 recovers too
    expect(evaluateMass(s)).toEqual({ kind: 'mass_communication_recovery', seq: 2 });
  });

  it('never fires when K > N, even with every device silent', () => {
    const s = newMassState(4, DEFAULT); // K = 5
    s.silent = 4;
    expect(evaluateMass(s)).toBeNull();
  });

  it('K = 1: one silent device is a mass loss, and recovery at S = 0', () => {
    const s = newMassState(1, { share: 1, minDevices: 1 });
    s.silent = 1;
    expect(evaluateMass(s)?.kind).toBe('mass_communication_loss');
    s.silent = 0;
    expect(evaluateMass(s)?.kind).toBe('mass_communication_recovery');
  });
});
