import { describe, expect, it } from 'vitest';
import { compileRing, pointInRing, positionInRing, type LonLat } from './geometry.ts';

const square = compileRing([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]);
// A "U": the notch x 4..6, y 3..10 is outside.
const u = compileRing([[0, 0], [10, 0], [10, 10], [6, 10], [6, 3], [4, 3], [4, 10], [0, 10], [0, 0]]);

describe('pointInRing', () => {
  it('inside and outside a square', () => {
    expect(pointInRing(5, 5, square)).toBe(true);
    expect(pointInRing(0.001, 9.999, square)).toBe(true);
    expect(pointInRing(-0.001, 5, square)).toBe(false);
    expect(pointInRing(5, 10.0001, square)).toBe(false);
    expect(pointInRing(20, 5, square)).toBe(false);
  });

  it('counts the boundary as inside: edges and corners', () => {
    for (const [x, y] of [[0, 5], [10, 5], [5, 0], [5, 10], [0, 0], [10, 10], [10, 0], [0, 10]] as const) {
      expect(pointInRing(x, y, square), `(${x}, ${y})`).toBe(true);
    }
  });

  it('boundary of a diagonal edge', () => {
    const tri = compileRing([[0, 0], [2, 0], [0, 2], [0, 0]]);
    expect(pointInRing(1, 1, tri)).toBe(true);
    expect(pointInRing(0.5, 1.5, tri)).toBe(true);
    expect(pointInRing(1.0001, 1, tri)).toBe(false);
    expect(pointInRing(0.9999, 1, tri)).toBe(true);
  });

  it('concave ring: the notch is outside, its rim is inside', () => {
    expect(pointInRing(5, 8, u)).toBe(false);
    expect(pointInRing(5, 3, u)).toBe(true); // on the notch floor
    expect(pointInRing(4, 6, u)).toBe(true); // on the notch wall
    expect(pointInRing(2, 8, u)).toBe(true);
    expect(pointInRing(8, 8, u)).toBe(true);
    expect(pointInRing(5, 1, u)).toBe(true);
  });

  it('a ray through vertices is counted once', () => {
    // The ray from (2, 3) to +x passes exactly through the notch corners (4,3) and (6,3).
    expect(pointInRing(2, 3, u)).toBe(true);
    expect(pointInRing(-1, 3, u)).toBe(false);
    // Diamond: the ray from the centre passes through the right-hand vertex.
    const diamond = compileRing([[0, -1], [1, 0], [0, 1], [-1, 0], [0, -1]]);
    expect(pointInRing(0, 0, diamond)).toBe(true);
    expect(pointInRing(-2, 0, diamond)).toBe(false);
    expect(pointInRing(0.6, 0.6, diamond)).toBe(false);
  });

  it('open and closed rings agree', () => {
    const open: LonLat[] = [[0, 0], [10, 0], [10, 10], [0, 10]];
    const o = compileRing(open);
    for (const [x, y] of [[5, 5], [0, 5], [11, 5], [5, -1], [0, 0]] as const) {
      expect(pointInRing(x, y, o)).toBe(pointInRing(x, y, square));
    }
  });

  it('positionInRing takes lat, lon against a [lon, lat] ring', () => {
    const paris = compileRing([[2.30, 48.85], [2.32, 48.85], [2.32, 48.87], [2.30, 48.87], [2.30, 48.85]]);
    expect(positionInRing(48.86, 2.31, paris)).toBe(true);
    expect(positionInRing(2.31, 48.86, paris)).toBe(false);
  });
});
