import { describe, expect, it } from 'vitest';
import type { UplinkRecord } from '../../../protocol/uplink.ts';
import { Oracle, alarmKey } from './oracle.ts';

// A 0.01° square around (48.85, 2.35).
const ring: [number, number][] = [[2.345, 48.845], [2.355, 48.845], [2.355, 48.855], [2.345, 48.855], [2.345, 48.845]];
const T0 = 1_635_170_400_000;
let seq = 0;
const at = (lat: number, lon: number, t: number): UplinkRecord => ({ device: 'D1', seq: ++seq, time: t, battery: 90, type: 'position', lat, lon, accuracy: 5 });
const hb = (t: number): UplinkRecord => ({ device: 'D1', seq: ++seq, time: t, battery: 90, type: 'heartbeat' });

describe('oracle (docs/RULES.md)', () => {
  it('expects one exclusion_zone_entry per entry, none while inside, a new one after leaving', () => {
    seq = 0;
    const o = new Oracle([{ zoneId: 'Z1', deviceId: 'D1', ring }], 600_000);
    const out = [
      at(48.84, 2.35, T0), at(48.85, 2.35, T0 + 60_000), at(48.851, 2.351, T0 + 75_000), hb(T0 + 90_000),
      at(48.86, 2.35, T0 + 150_000), at(48.85, 2.35, T0 + 210_000),
    ].flatMap((r) => o.observe(r));
    expect(out.map((e) => [e.kind, e.seq, e.zoneId])).toEqual([['exclusion_zone_entry', 2, 'Z1'], ['exclusion_zone_entry', 6, 'Z1']]);
    expect(out[0]!.triggerTime).toBe(T0 + 60_000);
  });

  it('counts a point on the boundary as inside', () => {
    seq = 0;
    const o = new Oracle([{ zoneId: 'Z1', deviceId: 'D1', ring }], 600_000);
    expect(o.observe(at(48.845, 2.35, T0))).toHaveLength(1);
  });

  it('expects communication_loss only for a silence longer than the offline timeout', () => {
    seq = 0;
    const o = new Oracle([], 600_000);
    expect(o.observe(hb(T0))).toEqual([]);
    expect(o.observe(hb(T0 + 600_000))).toEqual([]);
    const [e] = o.observe(hb(T0 + 1_200_001));
    expect(e).toMatchObject({ kind: 'communication_loss', seq: 2, deviceTime: T0 + 600_000, triggerTime: T0 + 1_200_000 });
  });

  it('refuses records out of seq order', () => {
    seq = 0;
    const o = new Oracle([], 600_000);
    o.observe(hb(T0));
    seq++;
    expect(() => o.observe(hb(T0 + 1000))).toThrow(/seq order/);
  });

  it('keys alarms by device, kind, seq and zone', () => {
    expect(alarmKey({ deviceId: 'D', kind: 'k', seq: 3, zoneId: 'Z' })).not.toBe(alarmKey({ deviceId: 'D', kind: 'k', seq: 3 }));
  });
});
