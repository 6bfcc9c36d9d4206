import { describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, expectedAlarmsPerDay, scaleBehaviour } from './behaviour.ts';

const total = (mix: { pse: number; psem: number; bar: number }): number =>
  Object.values(expectedAlarmsPerDay(DEFAULT_BEHAVIOUR, mix)).reduce((a, b) => a + b, 0);

describe('behaviour rates (DOMAIN.md background rates)', () => {
  it('makes ~1.25 alarms per PSE or PSEM wearer a day, 3–4 per BAR pair', () => {
    expect(total({ pse: 1, psem: 0, bar: 0 })).toBeCloseTo(1.25, 1);
    expect(total({ pse: 0, psem: 1, bar: 0 })).toBeCloseTo(1.25, 1);
    expect(total({ pse: 0, psem: 0, bar: 1 })).toBeGreaterThanOrEqual(3);
    expect(total({ pse: 0, psem: 0, bar: 1 })).toBeLessThanOrEqual(4);
  });

  it('scales every rate', () => {
    const b = scaleBehaviour(DEFAULT_BEHAVIOUR, 10);
    for (const [k, v] of Object.entries(DEFAULT_BEHAVIOUR)) expect(b[k as keyof typeof b]).toBeCloseTo(v * 10, 9);
    expect(expectedAlarmsPerDay(b, { pse: 1, psem: 0, bar: 0 }).late_return).toBeCloseTo(4.5, 9);
  });
});
