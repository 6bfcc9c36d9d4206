import { describe, expect, it } from 'vitest';
import { compileRing } from '../geometry.ts';
import { evaluateInclusion, type InclusionStates, type InclusionZone } from './inclusion-zone.ts';
import { LocalTime, Schedule } from './windows.ts';

// A square zone 2.0–2.1 E, 48.0–48.1 N.
const ring = compileRing([[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]);
const always: InclusionZone = { zoneId: 'home', ring, schedule: null };
const daytime: InclusionZone = {
  zoneId: 'work', ring,
  schedule: new Schedule([{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00', crossesMidnight: false }], new LocalTime('Europe/Paris')),
};
const IN = [48.05, 2.05] as const;
const OUT = [48.2, 2.05] as const;
const T = Date.parse('2021-10-25T12:00:00Z'); // Monday 14:00 in Paris

/** Positions [lat, lon, time] through one zone; the indexes that raised. */
function run(zone: InclusionZone, positions: (readonly [number, number, number])[], s: InclusionStates = new Map()): number[] {
  return positions.flatMap(([lat, lon, t], i) => (evaluateInclusion(lat, lon, t, [zone], s).some((c) => c.alarm) ? [i] : []));
}

describe('inclusion_zone_exit', () => {
  it('without windows: leaving raises once, staying out does not, coming back and leaving again raises again', () => {
    expect(run(always, [[...IN, T], [...OUT, T + 1], [...OUT, T + 2], [...IN, T + 3], [...OUT, T + 4]])).toEqual([1, 4]);
  });

  it('a first position outside raises (the state starts compliant)', () => {
    expect(run(always, [[...OUT, T]])).toEqual([0]);
  });

  it('the boundary counts as inside', () => {
    expect(run(always, [[48.1, 2.05, T], [48.0, 2.0, T + 1], [48.05, 2.1, T + 2]])).toEqual([]);
    expect(run(always, [[48.1, 2.05, T], [48.1000001, 2.05, T + 1]])).toEqual([1]);
  });

  it('GPS noise at the boundary raises once per exit', () => {
    const noise = [48.0999999, 48.1000001, 48.1, 48.1000002, 48.0999, 48.1000001];
    expect(run(always, noise.map((lat, i) => [lat, 2.05, T + i] as const))).toEqual([1, 3, 5]);
  });

  it('a window opening while the wearer is outside raises at the first position inside the window', () => {
    const open = Date.parse('2021-10-25T06:00:00Z'); // Monday 08:00 CEST
    expect(run(daytime, [[...OUT, open - 120_000], [...OUT, open - 1], [...OUT, open], [...OUT, open + 60_000]])).toEqual([2]);
    expect(run(daytime, [[...OUT, open - 1], [...IN, open], [...OUT, open + 60_000]])).toEqual([2]);
  });

  it('outside the windows the zone does not apply, and each window starts afresh', () => {
    const close = Date.parse('2021-10-25T16:00:00Z'); // Monday 18:00 CEST
    const nextOpen = Date.parse('2021-10-26T06:00:00Z'); // Tuesday 08:00
    const s: InclusionStates = new Map();
    expect(run(daytime, [[...OUT, close - 60_000], [...OUT, close - 1], [...OUT, close], [...OUT, nextOpen]], s)).toEqual([0, 3]);
    // Saturday: no window.
    expect(run(daytime, [[...OUT, Date.parse('2021-10-30T10:00:00Z')]])).toEqual([]);
  });

  it('a state restored as violating does not raise again', () => {
    expect(run(always, [[...OUT, T]], new Map([['home', true]]))).toEqual([]);
  });
});
