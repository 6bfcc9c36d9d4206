import { describe, expect, it } from 'vitest';
import { scenarioInvalid, valueText } from './load.ts';

describe('the error line for an invalid scenario', () => {
  it('shows a value as the JSON the user wrote', () => {
    expect(valueText('5 mins')).toBe('"5 mins"');
    expect(valueText(11)).toBe('11');
    expect(valueText(undefined)).toBe('nothing');
  });

  it('shows a value JSON cannot hold instead of throwing (found by scenarios/schema.fuzz.test.ts)', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(valueText(0n)).toBe('0n');
    expect(valueText(cycle)).toBe('<ref *1> { a: 1, self: [Circular *1] }');
    const err = scenarioInvalid('x.scenario.ts', 'scenarios/x.scenario.ts', [{ path: 'seed', message: 'expected number, received bigint', value: 1n }]);
    expect(err.oneLine()).toBe('scenario x.scenario.ts: seed: expected number, received bigint, got 1n — fix seed in scenarios/x.scenario.ts (or the flag that overrides it) [VIGIL_SCENARIO_INVALID]');
  });

  it('cuts a long value at 200 characters and counts the other problems', () => {
    expect(valueText('x'.repeat(500))).toHaveLength(200);
    const p = { path: 'name', message: 'bad', value: 'x' };
    expect(scenarioInvalid('x.scenario.ts', 'x.scenario.ts', [p, p, p]).message).toMatch(/\(and 2 more problems\)$/);
  });
});
