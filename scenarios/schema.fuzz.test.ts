/**
 * Fuzzing the scenario validator (issue 8 item 7): random JSON-ish values and mutations of the
 * library's valid scenarios are either valid or refused with problems that name a field — never a
 * throw — and the one-line error the CLI prints from them (scenarios/load.ts) is always built.
 * A valid scenario stays valid, to the same result, through a JSON round trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS } from '../test/support/fuzz.ts';
import { VigilError } from '../protocol/errors.ts';
import { validateScenario, type ScenarioInput } from './schema.ts';
import { scenarioInvalid } from './load.ts';
import smoke from './smoke.scenario.ts';
import fr2021 from './fr-2021-10-25.scenario.ts';
import endpointMove from './rehearsal-endpoint-move.scenario.ts';
import rollingRestart from './rehearsal-rolling-broker-restart.scenario.ts';
import nl2018 from './nl-2018-tele2.scenario.ts';

const withHil: ScenarioInput = {
  ...smoke,
  name: 'with-hil',
  hil: [{ device: 'serial=EMU-0001', role: 'psem', wearer: { city: 'lyon' }, stimulus: [{ at: '+5m', tamper: true }], mode: 'gateway' }],
};
const valid: readonly ScenarioInput[] = [smoke, fr2021, endpointMove, rollingRestart, nl2018, withHil];

/** Every path into a value: object keys and array indexes, depth first. */
function paths(x: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof x !== 'object' || x === null) return [prefix];
  const keys: (string | number)[] = Array.isArray(x) ? x.map((_, i) => i) : Object.keys(x);
  return [prefix, ...keys.flatMap((k) => paths((x as Record<string | number, unknown>)[k], [...prefix, k]))];
}

/** A deep copy of `x` with the value at `path` replaced by `value`, or removed when `value` is the REMOVE mark. */
const REMOVE = Symbol('remove');
function replaced(x: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value === REMOVE ? undefined : value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(x)) {
    const copy: unknown[] = [...x];
    if (rest.length === 0 && value === REMOVE) copy.splice(head as number, 1);
    else copy[head as number] = replaced(copy[head as number], rest, value);
    return copy;
  }
  const copy: Record<string | number, unknown> = { ...(x as object) };
  if (rest.length === 0 && value === REMOVE) delete copy[head];
  else copy[head] = replaced(copy[head], rest, value);
  return copy;
}

/** Values a person (or a bad merge) might put in a scenario field. */
const fieldValue = fc.oneof(
  fc.constant(REMOVE),
  fc.constantFrom('', '0', '-1h', '+99999999999999999999h', '1e400h', '9'.repeat(400) + 'd', '2021-10-25T14:00:00+02:00', '+275760-09-13T00:00:00Z', 'NaN', '__proto__'),
  fc.constantFrom(0, -1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e21),
  fc.anything({ maxDepth: 2, withBigInt: true, withBoxedValues: true, withNullPrototype: true, withObjectString: true, withSparseArray: true, withDate: true, withMap: true, withSet: true, withTypedArray: true }),
);

const mutation = fc.constantFrom(...valid).chain((base) => {
  const all = paths(base);
  return fc.tuple(fc.constant(base), fc.constantFrom(...all), fieldValue, fc.boolean()).map(([b, path, value, twice]) => {
    let out = replaced(b, path, value);
    // Sometimes a second change elsewhere: a problem after the first must not hide a crash.
    if (twice) {
      const other = all[(path.length * 7 + 3) % all.length] as (string | number)[];
      out = replaced(out, other, typeof value === 'symbol' ? 'x' : REMOVE);
    }
    return out;
  });
});

/** Validates; a refusal must name each problem's field and what was wrong, and make the CLI's error. */
function checkOne(input: unknown): ReturnType<typeof validateScenario> {
  const r = validateScenario(input);
  if (r.ok) {
    const s = r.scenario;
    expect(Number.isFinite(s.duration) && s.duration > 0).toBe(true);
    for (const f of s.faults) expect(f.from >= s.start && f.until > f.from && f.until <= s.start + s.duration).toBe(true);
  } else {
    expect(r.problems.length).toBeGreaterThan(0);
    for (const p of r.problems) {
      expect(typeof p.path === 'string' && p.path !== '').toBe(true);
      expect(typeof p.message === 'string' && p.message !== '').toBe(true);
    }
    const err = scenarioInvalid('x.scenario.ts', 'scenarios/x.scenario.ts', r.problems);
    expect(err).toBeInstanceOf(VigilError);
    expect(err.oneLine()).toContain(r.problems[0]?.path);
  }
  return r;
}

describe('scenario validator under fuzzing', () => {
  it('accepts or refuses, naming the field, any mutation of a library scenario', () => {
    fc.assert(fc.property(mutation, (input) => {
      checkOne(input);
    }), { numRuns: FUZZ_RUNS });
  });

  it('accepts or refuses any JSON-ish value, at the top or as a field of a minimal scenario', () => {
    const anyObject = fc.dictionary(fc.constantFrom('name', 'duration', 'fleet', 'faults', 'hil', 'network', 'speed', 'start', 'sla', 'provisioning', 'x'), fc.anything({ maxDepth: 3, withBigInt: true, withNullPrototype: true }));
    fc.assert(fc.property(fc.oneof(fc.anything({ maxDepth: 3, withBigInt: true }), anyObject, anyObject.map((o) => ({ name: 'x', duration: '1h', ...o }))), (input) => {
      checkOne(input);
    }), { numRuns: 3_000 });
  });

  it('a valid scenario is valid again, to the same result, after a JSON round trip', () => {
    fc.assert(fc.property(fc.constantFrom(...valid), fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 10_000 }), (base, seed, speed) => {
      const input = { ...base, seed, speed };
      const once = checkOne(input);
      expect(once.ok).toBe(true);
      expect(checkOne(JSON.parse(JSON.stringify(input)))).toEqual(once);
    }), { numRuns: 300 });
  });
});
