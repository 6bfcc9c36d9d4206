import { describe, expect, it } from 'vitest';
import { assignOperators, planFaults, type FleetDevice } from './faults.ts';
import type { TimedFault } from './schema.ts';

const fleet: FleetDevice[] = [
  ...Array.from({ length: 100 }, (_, i) => ({ deviceId: `PSE-${i}`, type: 'pse' as const, operator: i < 70 ? 'a' : 'b' })),
  ...Array.from({ length: 10 }, (_, i) => ({ deviceId: `BAR-P-${i}`, type: 'bar_perpetrator' as const, operator: 'a' })),
  ...Array.from({ length: 10 }, (_, i) => ({ deviceId: `BAR-V-${i}`, type: 'bar_victim' as const, operator: 'b' })),
];
const fault = (target: TimedFault['target'], extra: Partial<TimedFault> = {}): TimedFault => ({ kind: 'black-hole', name: 'f', from: 1000, until: 2000, target, ...extra }) as TimedFault;

describe('faults against a fleet', () => {
  it('targets narrow by operator, device type and list; a fraction is a seeded share of what matched', () => {
    expect(planFaults([fault({ operator: 'b' })], fleet, 1, 10_000, 'x')[0]!.devices).toHaveLength(40);
    expect(planFaults([fault({ deviceType: 'bar' })], fleet, 1, 10_000, 'x')[0]!.devices).toHaveLength(20);
    expect(planFaults([fault({ deviceType: 'bar', operator: 'a' })], fleet, 1, 10_000, 'x')[0]!.devices).toHaveLength(10);
    const half = planFaults([fault({ fraction: 0.5 })], fleet, 1, 10_000, 'x')[0]!.devices;
    expect(half).toHaveLength(60);
    expect(planFaults([fault({ fraction: 0.5 })], fleet, 1, 10_000, 'x')[0]!.devices).toEqual(half);
    expect(planFaults([fault({ fraction: 0.5 })], fleet, 2, 10_000, 'x')[0]!.devices).not.toEqual(half);
  });

  it('heals at until, or progressively over the recovery, never after the end of the run', () => {
    const [p] = planFaults([fault({}, { recovery: 5000 })], fleet, 1, 6000, 'x');
    const heals = [...p!.healAt.values()];
    expect(Math.min(...heals)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...heals)).toBeLessThanOrEqual(6000);
    expect(new Set(heals).size).toBeGreaterThan(50);
  });

  it('a target that matches nothing, an unknown operator or device, stops with the field named', () => {
    expect(() => planFaults([fault({ operator: 'z' })], fleet, 1, 10_000, 'x.scenario.ts')).toThrow(/faults\.0\.target\.operator: no device uses operator "z" \(operators: a, b\)/);
    expect(() => planFaults([fault({ devices: ['PSE-1', 'NOPE'] })], fleet, 1, 10_000, 'x')).toThrow(/faults\.0\.target\.devices: NOPE is not in the fleet/);
    expect(() => planFaults([fault({ deviceType: 'psem' })], fleet, 1, 10_000, 'x')).toThrow(/faults\.0\.target: \{"deviceType":"psem"\} matches no device/);
  });

  it('operators follow their shares, by device id whatever the fleet size', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `D-${i}`);
    const ops = assignOperators(ids, [{ id: 'a', share: 0.25 }, { id: 'b', share: 0.75 }], 7);
    const a = [...ops.values()].filter((o) => o === 'a').length;
    expect(a).toBeGreaterThan(400);
    expect(a).toBeLessThan(600);
    const small = assignOperators(ids.slice(0, 10), [{ id: 'a', share: 0.25 }, { id: 'b', share: 0.75 }], 7);
    for (const [id, op] of small) expect(ops.get(id)).toBe(op);
  });
});
