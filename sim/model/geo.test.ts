import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { polygon } from '@turf/helpers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { insideFlatRing, squareRing } from './geo.ts';

/** turf's answer, the boundary counting as inside (its default, and the device's). */
const turfInside = (ring: [number, number][], x: number, y: number): boolean => booleanPointInPolygon([x, y], polygon([ring]));
/** The ring flat after `from` slots of something else, as a zone holds it. */
const flat = (ring: [number, number][], from: number): number[] => [...Array<number>(from).fill(NaN), ...ring.flat()];

describe('insideFlatRing (a zone check without an array per corner)', () => {
  it('gives turf’s answer on a small grid, where points fall on corners, on edges and on horizontal edges', () => {
    // Integer corners and points make the boundary cases (the robust orientation test returning 0,
    // both ends of an edge on the point's latitude) frequent rather than measure-zero.
    const corner = fc.tuple(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 }));
    fc.assert(
      fc.property(fc.array(corner, { minLength: 3, maxLength: 7 }), corner, fc.nat({ max: 5 }), (open, [x, y], from) => {
        const ring = [...open, open[0]] as [number, number][];
        expect(insideFlatRing(flat(ring, from), from, x, y)).toBe(turfInside(ring, x, y));
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives turf’s answer for the plan’s square zones, at their corners and around them', () => {
    const zone = fc.record({
      lat: fc.double({ min: 42, max: 51, noNaN: true }),
      lon: fc.double({ min: -4, max: 8, noNaN: true }),
      side: fc.integer({ min: 50, max: 3_000 }),
    });
    fc.assert(
      fc.property(zone, fc.double({ min: -1.5, max: 1.5, noNaN: true }), fc.double({ min: -1.5, max: 1.5, noNaN: true }), fc.nat({ max: 4 }), ({ lat, lon, side }, dx, dy, c) => {
        const ring = squareRing({ lat, lon }, side);
        const halfDeg = side / 111_000;
        const [cx, cy] = ring[c] as [number, number];
        for (const [x, y] of [[lon + dx * halfDeg, lat + dy * halfDeg], [cx, cy], [cx + dx * 1e-9, cy]] as const) {
          expect(insideFlatRing(flat(ring, 4), 4, x, y)).toBe(turfInside(ring, x, y));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('says what is wrong with a ring it cannot read', () => {
    expect(() => insideFlatRing([0, 0, 1, 0, 1, 1], 0, 0.5, 0.5)).toThrow('the first and last corners of a ring must be the same');
    expect(() => insideFlatRing([9, 9, 0, 0], 2, 0, 0)).toThrow('a ring needs at least two corners');
  });
});
