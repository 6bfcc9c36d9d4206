import { describe, expect, it } from 'vitest';
import type { Window, Zone } from '../../../protocol/provisioning.ts';
import { Oracle, type Expectation } from './oracle.ts';
import { at, config, MIN, recordsOf } from './testkit.ts';

// A 0.01° square: lon 2.345–2.355, lat 48.845–48.855.
const ring: [number, number][] = [[2.345, 48.845], [2.355, 48.845], [2.355, 48.855], [2.345, 48.855], [2.345, 48.845]];
const EDGE = 2.355;
const T0 = at('2021-10-25T10:00:00+02:00');
const oracle = (zones: Omit<Zone, 'deviceId'>[]): Oracle =>
  new Oracle(config({ offlineTimeoutMs: 30 * 86_400_000, devices: [{ deviceId: 'M1', type: 'psem' }], zones: zones.map((z) => ({ ...z, deviceId: 'M1' })) }));
const brief = (es: Expectation[]): unknown[] => es.map((e) => [e.kind, e.seq, e.zoneId]);

describe('exclusion_zone_entry at a noisy edge', () => {
  it('raises once per re-entry while GPS jitter straddles the edge, the boundary counting as inside', () => {
    const o = oracle([{ zoneId: 'X', kind: 'exclusion', polygon: ring }]);
    const r = recordsOf('M1');
    // ±2 m of jitter around the east edge (1e-5° of longitude ≈ 0.7 m here).
    const lons = [EDGE + 3e-5, EDGE - 2e-5, EDGE - 1e-5, EDGE + 1e-5, EDGE, EDGE + 2e-5, EDGE + 1e-5, EDGE - 3e-5];
    const out = lons.flatMap((lon, i) => o.observe(r.pos(T0 + i * 15_000, 48.85, lon)));
    expect(brief(out)).toEqual([['exclusion_zone_entry', 2, 'X'], ['exclusion_zone_entry', 5, 'X'], ['exclusion_zone_entry', 8, 'X']]);
  });

  it('ignores heartbeats and events for zones (positions only)', () => {
    const o = oracle([{ zoneId: 'X', kind: 'exclusion', polygon: ring }]);
    const r = recordsOf('M1');
    expect([r.pos(T0, 48.85, 2.35), r.hb(T0 + MIN), r.ev(T0 + 2 * MIN, 'charger_connected'), r.pos(T0 + 3 * MIN, 48.85, 2.35)].flatMap((x) => o.observe(x)).map((e) => e.seq)).toEqual([1]);
  });
});

describe('inclusion_zone_exit', () => {
  it('without windows: one alarm per exit, none while outside, the boundary counting as inside', () => {
    const o = oracle([{ zoneId: 'I', kind: 'inclusion', polygon: ring }]);
    const r = recordsOf('M1');
    const pts: [number, number][] = [[48.85, 2.35], [48.86, 2.35], [48.861, 2.35], [48.855, 2.35], [48.8551, 2.35], [48.85, 2.35], [48.84, 2.35]];
    expect(brief(pts.flatMap(([lat, lon], i) => o.observe(r.pos(T0 + i * MIN, lat, lon))))).toEqual([['inclusion_zone_exit', 2, 'I'], ['inclusion_zone_exit', 5, 'I'], ['inclusion_zone_exit', 7, 'I']]);
  });

  it('with a window: a wearer already outside when it opens is alarmed at the first position inside the window; each window starts afresh', () => {
    const w: Window = { days: [1, 2], from: '08:00', to: '10:00', crossesMidnight: false };
    const o = oracle([{ zoneId: 'I', kind: 'inclusion', polygon: ring, windows: [w] }]);
    const r = recordsOf('M1');
    const out = [
      r.pos(at('2021-10-25T07:59:59.999+02:00'), 48.9, 2.35), // 1 outside, window not open
      r.pos(at('2021-10-25T08:00:00+02:00'), 48.9, 2.35), // 2 window opens with the wearer out
      r.pos(at('2021-10-25T08:01:00+02:00'), 48.9, 2.35), // 3 still violating
      r.pos(at('2021-10-25T10:00:00+02:00'), 48.9, 2.35), // 4 window closed: compliant again
      r.pos(at('2021-10-26T08:30:00+02:00'), 48.9, 2.35), // 5 next day's window: afresh
      r.pos(at('2021-10-26T09:00:00+02:00'), 48.85, 2.35), // 6 back inside
      r.pos(at('2021-10-26T09:30:00+02:00'), 48.9, 2.35), // 7 leaves during the window
      r.pos(at('2021-10-27T08:30:00+02:00'), 48.9, 2.35), // 8 Wednesday: no window
    ].flatMap((x) => o.observe(x));
    expect(brief(out)).toEqual([['inclusion_zone_exit', 2, 'I'], ['inclusion_zone_exit', 5, 'I'], ['inclusion_zone_exit', 7, 'I']]);
    expect(out[0]!.triggerTime).toBe(at('2021-10-25T08:00:00+02:00'));
  });

  it('keeps each zone of a device separate', () => {
    const far: [number, number][] = ring.map(([lon, lat]) => [lon + 0.1, lat]);
    const o = oracle([{ zoneId: 'I', kind: 'inclusion', polygon: ring }, { zoneId: 'X', kind: 'exclusion', polygon: far }]);
    const r = recordsOf('M1');
    expect(brief([r.pos(T0, 48.85, 2.35), r.pos(T0 + MIN, 48.85, 2.45), r.pos(T0 + 2 * MIN, 48.85, 2.35)].flatMap((x) => o.observe(x))))
      .toEqual([['inclusion_zone_exit', 2, 'I'], ['exclusion_zone_entry', 2, 'X']]);
  });
});
