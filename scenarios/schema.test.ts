import { describe, expect, it } from 'vitest';
import { validateScenario } from './schema.ts';
import { parseDuration } from './duration.ts';

describe('durations', () => {
  it.each([['2h', 7_200_000], ['90m', 5_400_000], ['1h30m', 5_400_000], ['45s', 45_000], ['500ms', 500], ['1.5h', 5_400_000]])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  // The last two were found by scenarios/schema.fuzz.test.ts: Infinity, and past what a Date holds.
  it.each(['', '5 mins', '2', 'h', '1h 30m', '-1h', `${'9'.repeat(400)}d`, '36501d'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('scenario validation', () => {
  it('refuses a duration or fault offset past 100 years with the field named, not a RangeError (found by fuzzing)', () => {
    const r = validateScenario({ name: 'x', duration: `${'9'.repeat(400)}d`, fleet: { psem: 1 } });
    expect(r).toMatchObject({ ok: false, problems: [{ path: 'duration', message: expect.stringContaining('at most 100 years') }] });
    const far = validateScenario({ name: 'x', duration: '2h', fleet: { psem: 1 }, faults: [{ kind: 'black-hole', from: '+99999999999999d', until: '+99999999999999999d' }] });
    expect(far).toMatchObject({ ok: false, problems: [{ path: 'faults.0.from' }, { path: 'faults.0.until' }] });
    const late = validateScenario({ name: 'x', start: '+275760-09-13T00:00:00Z', duration: '2h', fleet: { psem: 1 }, faults: [{ kind: 'black-hole', from: '+1h', until: '+2h' }] });
    expect(late).toMatchObject({ ok: false, problems: [{ path: 'start', message: expect.stringContaining('between 1970 and 9999') }] });
  });

  it('fills DOMAIN.md defaults', () => {
    const r = validateScenario({ name: 'x', duration: '2h', fleet: { psem: 10 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario).toMatchObject({ seed: 1, speed: 60, duration: 7_200_000, offlineTimeout: 600_000, slaMs: { exclusion_zone_entry: 240_000, strap_tamper: 180_000 } });
    expect(r.scenario.mix).toEqual({ pse: 0, psem: 10, bar: 0 });
  });

  it('defaults to the French fleet of DOMAIN.md and applies rate overrides, then the scale', () => {
    const r = validateScenario({ name: 'x', duration: '2h', behaviour: { sosPerDay: 2, scale: 10 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario.mix.pse + r.scenario.mix.psem + r.scenario.mix.bar).toBe(15_000);
    expect(r.scenario.rates.sosPerDay).toBe(20);
    expect(r.scenario.rates.lateReturnsPerDay).toBeCloseTo(4.5);
  });

  it.each([
    [{ name: 'x', duration: '5 mins', fleet: { psem: 1 } }, 'duration', /duration like "2h"/],
    [{ name: 'x', duration: '1h', fleet: { psem: 0 } }, 'fleet', /at least one wearer/],
    [{ name: 'x', duration: '1h', fleet: { pse: 2.5 } }, 'fleet.pse', /int/],
    [{ name: 'x', duration: '1h', behaviour: { lateReturnsPerDay: -1 } }, 'behaviour.lateReturnsPerDay', /0/],
    [{ name: 'x', duration: '1h', behaviour: { violationsPerWearerPerDay: 3 } }, 'behaviour', /violationsPerWearerPerDay/],
    [{ name: 'x', duration: '1h', fleet: { psem: 1 }, speed: -3 }, 'speed', /0/],
    [{ name: 'X Y', duration: '1h', fleet: { psem: 1 } }, 'name', /lower-case/],
    [{ name: 'x', duration: '1h', fleet: { psem: 1 }, cities: ['atlantis'] }, 'cities.0', /paris/],
    [{ name: 'x', duration: '1h', fleet: { psem: 1 }, bogus: 1 }, '(scenario)', /bogus/],
    [{ name: 'x', duration: '1h', fleet: { psem: 1 }, start: '2021-10-25T14:00' }, 'start', /offset/],
  ])('rejects %j at %s', (input, path, message) => {
    const r = validateScenario(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.path).toBe(path);
    expect(r.problems[0]!.message).toMatch(message);
  });
});
