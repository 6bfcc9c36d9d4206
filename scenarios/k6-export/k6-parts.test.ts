/** The pure parts of the k6 script: the segment split, the offset table, the run's environment. */
import fc from 'fast-check';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { devicesOfVu, segmentRange } from '../k6/segment.ts';
import { buildZoneTable, tableOffset } from '../k6/zone-table.ts';
import { brokerOf, readClock } from '../k6/run-env.ts';

describe('execution segments', () => {
  it('any segment sequence, and any VU count per instance, drives every device exactly once', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 20_000 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 59 }), { maxLength: 6 }),
      fc.integer({ min: 1, max: 40 }),
      (n, cuts, vus) => {
        const bounds = ['0', ...cuts.sort((a, b) => a - b).map((c) => `${c}/60`), '1'];
        const seen = new Uint8Array(n);
        for (let s = 0; s + 1 < bounds.length; s++) {
          const range = segmentRange(n, `${bounds[s]}:${bounds[s + 1]}`);
          for (let vu = 1; vu <= vus; vu++) for (const i of devicesOfVu(range, vu, vus)) seen[i] = (seen[i] as number) + 1;
        }
        expect(seen.every((x) => x === 1)).toBe(true);
      },
    ), { numRuns: 200 });
  });

  it('reads k6\'s spellings, 0:1 without a segment, and names a bad one', () => {
    expect(segmentRange(10, '0:1/2')).toEqual({ lo: 0, hi: 5 });
    expect(segmentRange(10, '50%:100%')).toEqual({ lo: 5, hi: 10 });
    expect(segmentRange(3, '0.3333:1')).toEqual({ lo: 1, hi: 3 });
    expect(segmentRange(7, undefined)).toEqual({ lo: 0, hi: 7 });
    expect(() => segmentRange(10, '1/2')).toThrow(/execution segment "1\/2" must be from:to/);
    expect(() => segmentRange(10, '1/2:1/4')).toThrow(/start must be below its end/);
    expect(() => segmentRange(10, '0:3/2')).toThrow(/"3\/2" is not a fraction between 0 and 1/);
  });
});

describe('time-zone offset table', () => {
  const zone = IANAZone.create('Europe/Paris');
  const from = Date.parse('2020-01-01T00:00:00Z');
  const to = Date.parse('2040-01-01T00:00:00Z');
  const table = buildZoneTable('Europe/Paris', from, to, (t) => zone.offset(t));

  it('answers what luxon answers, to the millisecond around each transition', () => {
    expect(table.transitions).toHaveLength(40); // two a year
    fc.assert(fc.property(fc.integer({ min: from, max: to }), (t) => tableOffset(table, t) === zone.offset(t)), { numRuns: 2000 });
    for (const at of table.transitions) {
      for (const t of [at - 1, at, at + 1]) expect(tableOffset(table, t)).toBe(zone.offset(t));
    }
    expect(tableOffset(table, Date.parse('2021-10-31T00:59:59.999Z'))).toBe(120);
    expect(tableOffset(table, Date.parse('2021-10-31T01:00:00Z'))).toBe(60);
    expect(tableOffset(table, Infinity)).toBeNaN();
  });

  it('refuses to guess outside its span', () => {
    expect(() => tableOffset(table, to + 1)).toThrow(/covers 2020-01-01T00:00:00.000Z → 2040-01-01T00:00:00.000Z, asked for 2040-01-01T00:00:00.001Z: export the script again/);
  });
});

describe('the run\'s environment', () => {
  const config = { speed: 60, start: Date.parse('2021-10-25T12:00:00Z'), brokerUrl: 'mqtt://127.0.0.1:1883' };
  const triple = { startVirtual: config.start, startReal: 1_700_000_000_000, speed: 60 };

  it('takes the observer\'s clock triple, and checks it is this scenario\'s', () => {
    expect(readClock({ VIGIL_CLOCK: JSON.stringify(triple) }, config)).toEqual(triple);
    expect(() => readClock({}, config)).toThrow(/VIGIL_CLOCK is not set: pass the triple `vigil run <scenario> --observe` prints/);
    expect(() => readClock({ VIGIL_CLOCK: '{startVirtual' }, config)).toThrow(/VIGIL_CLOCK is not JSON/);
    expect(() => readClock({ VIGIL_CLOCK: JSON.stringify({ ...triple, startReal: 'now' }) }, config)).toThrow(/VIGIL_CLOCK.startReal must be a number, got "now"/);
    expect(() => readClock({ VIGIL_CLOCK: JSON.stringify({ ...triple, speed: 100 }) }, config)).toThrow(/speed is 100 but the script was exported for speed 60/);
    expect(() => readClock({ VIGIL_CLOCK: JSON.stringify({ ...triple, startVirtual: 0 }) }, config)).toThrow(/startVirtual is 1970-01-01T00:00:00.000Z but the scenario starts at 2021-10-25T12:00:00.000Z/);
  });

  it('dials VIGIL_BROKER when set, else the export\'s broker', () => {
    expect(brokerOf({}, config)).toBe('mqtt://127.0.0.1:1883');
    expect(brokerOf({ VIGIL_BROKER: 'mqtts://broker.example:8883' }, config)).toBe('mqtts://broker.example:8883');
    expect(() => brokerOf({ VIGIL_BROKER: 'broker:1883' }, config)).toThrow(/VIGIL_BROKER must be a broker URL like mqtt:\/\/broker:1883, got "broker:1883"/);
  });
});
