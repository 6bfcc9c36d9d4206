import { describe, expect, it } from 'vitest';
import type { UplinkRecord } from '../../../protocol/uplink.ts';
import { Oracle, alarmKey, type Expectation } from './oracle.ts';
import { config, MIN, recordsOf } from './testkit.ts';

// A 0.01° square around (48.85, 2.35).
const ring: [number, number][] = [[2.345, 48.845], [2.355, 48.845], [2.355, 48.855], [2.345, 48.855], [2.345, 48.845]];
const T0 = 1_635_170_400_000;
let seq = 0;
const at = (lat: number, lon: number, t: number): UplinkRecord => ({ device: 'D1', seq: ++seq, time: t, battery: 90, type: 'position', lat, lon, accuracy: 5 });
const hb = (t: number): UplinkRecord => ({ device: 'D1', seq: ++seq, time: t, battery: 90, type: 'heartbeat' });
const withZone = (): Oracle =>
  new Oracle(config({ devices: [{ deviceId: 'D1', type: 'psem' }], zones: [{ zoneId: 'Z1', kind: 'exclusion', deviceId: 'D1', polygon: ring }] }));
const plain = (): Oracle => new Oracle(config({ devices: [{ deviceId: 'D1', type: 'psem' }] }));
const brief = (es: Expectation[]): unknown[] => es.map((e) => [e.deviceId, e.kind, e.seq]);

describe('oracle (docs/RULES.md)', () => {
  it('expects one exclusion_zone_entry per entry, none while inside, a new one after leaving', () => {
    seq = 0;
    const o = withZone();
    const out = [
      at(48.84, 2.35, T0), at(48.85, 2.35, T0 + 60_000), at(48.851, 2.351, T0 + 75_000), hb(T0 + 90_000),
      at(48.86, 2.35, T0 + 150_000), at(48.85, 2.35, T0 + 210_000),
    ].flatMap((r) => o.observe(r));
    expect(out.map((e) => [e.kind, e.seq, e.zoneId])).toEqual([['exclusion_zone_entry', 2, 'Z1'], ['exclusion_zone_entry', 6, 'Z1']]);
    expect(out[0]!.triggerTime).toBe(T0 + 60_000);
  });

  it('takes a device provisioned with firstSeq from that seq on (a real device with a history), and refuses one below it', () => {
    seq = 500;
    const o = new Oracle(config({ devices: [{ deviceId: 'D1', type: 'psem', firstSeq: 501 }], zones: [{ zoneId: 'Z1', kind: 'exclusion', deviceId: 'D1', polygon: ring }] }));
    expect(brief([at(48.84, 2.35, T0), at(48.85, 2.35, T0 + 60_000)].flatMap((r) => o.observe(r)))).toEqual([['D1', 'exclusion_zone_entry', 502]]);
    const fresh = new Oracle(config({ devices: [{ deviceId: 'D1', type: 'psem', firstSeq: 501 }] }));
    expect(() => fresh.observe({ device: 'D1', seq: 1, time: T0, battery: 90, type: 'heartbeat' })).toThrow(/seq 1 after 500/);
  });

  it('counts a point on the boundary as inside', () => {
    seq = 0;
    const o = withZone();
    expect(o.observe(at(48.845, 2.35, T0))).toHaveLength(1);
  });

  it('expects communication_loss only for a silence longer than the offline timeout', () => {
    seq = 0;
    const o = plain();
    expect(o.observe(hb(T0))).toEqual([]);
    expect(o.observe(hb(T0 + 600_000))).toEqual([]);
    const [e] = o.observe(hb(T0 + 1_200_001));
    expect(e).toMatchObject({ kind: 'communication_loss', seq: 2, deviceTime: T0 + 600_000, triggerTime: T0 + 1_200_000 });
  });

  it('refuses records out of seq order, of unprovisioned devices, and after finish', () => {
    seq = 0;
    const o = plain();
    o.observe(hb(T0));
    seq++;
    expect(() => o.observe(hb(T0 + 1000))).toThrow(/seq order/);
    expect(() => o.observe({ device: 'NOPE', seq: 1, time: T0, battery: 90, type: 'heartbeat' })).toThrow(/not provisioned/);
    o.finish(T0 + 1000);
    expect(() => o.observe(hb(T0 + 2000))).toThrow(/after finish/);
    expect(() => o.finish(T0 + 3000)).toThrow(/twice/);
  });

  it('keys alarms by device, kind, seq, zone and pair', () => {
    expect(alarmKey({ deviceId: 'D', kind: 'k', seq: 3, zoneId: 'Z' })).not.toBe(alarmKey({ deviceId: 'D', kind: 'k', seq: 3 }));
    expect(alarmKey({ deviceId: 'D', kind: 'k', seq: 3, pairId: 'P1' })).not.toBe(alarmKey({ deviceId: 'D', kind: 'k', seq: 3, pairId: 'P2' }));
    expect(alarmKey({ deviceId: 'D', kind: 'k', seq: 3, zoneId: 'X' })).not.toBe(alarmKey({ deviceId: 'D', kind: 'k', seq: 3, pairId: 'X' }));
  });
});

describe('device events (RULES.md: one alarm per event; "Not alarms")', () => {
  const devices = [
    { deviceId: 'PSE', type: 'pse', home: { lat: 48.85, lon: 2.35 } },
    { deviceId: 'PSEM', type: 'psem' },
    { deviceId: 'PERP', type: 'bar_perpetrator' },
    { deviceId: 'VIC', type: 'bar_victim' },
  ] as const;
  const kindOf = (deviceId: string, event: string): unknown => {
    const o = new Oracle(config({ devices: [...devices] }));
    const r = recordsOf(deviceId);
    const out = o.observe(r.ev(T0, event));
    expect(out.length).toBeLessThanOrEqual(1);
    if (out[0]) expect(out[0]).toEqual({ deviceId, kind: out[0].kind, seq: 1, deviceTime: T0, triggerTime: T0 });
    return out[0]?.kind;
  };

  it('maps every alarm event to its kind, with the event record\'s seq and device time', () => {
    expect(kindOf('PSEM', 'strap_tamper')).toBe('strap_tamper');
    expect(kindOf('PSE', 'strap_tamper')).toBe('strap_tamper');
    expect(kindOf('PERP', 'strap_tamper')).toBe('strap_tamper');
    expect(kindOf('PSEM', 'gps_lost')).toBe('gps_loss');
    expect(kindOf('PSE', 'unit_tamper')).toBe('home_unit_tamper');
    expect(kindOf('PSE', 'unit_moved')).toBe('home_unit_moved');
    expect(kindOf('PSE', 'mains_lost')).toBe('mains_power_loss');
    expect(kindOf('VIC', 'sos')).toBe('victim_sos');
  });

  it('raises nothing for the events that are not alarms, unknown events, or sos from a non-victim', () => {
    for (const ev of ['charger_connected', 'charger_disconnected', 'gps_restored', 'mains_restored', 'rf_present', 'rf_absent', 'curfew_start', 'something_new', 'toString', 'constructor']) {
      for (const d of devices) expect(kindOf(d.deviceId, ev)).toBeUndefined();
    }
    expect(kindOf('PERP', 'sos')).toBeUndefined();
    expect(kindOf('PSEM', 'sos')).toBeUndefined();
  });

  it('raises one alarm per event: two tampers in a row are two alarms', () => {
    const o = new Oracle(config({ devices: [...devices] }));
    const r = recordsOf('PSEM');
    expect(brief([r.ev(T0, 'strap_tamper'), r.ev(T0 + 1000, 'strap_tamper'), r.ev(T0 + 2000, 'gps_lost'), r.ev(T0 + 3000, 'gps_restored'), r.ev(T0 + 4000, 'gps_lost')].flatMap((x) => o.observe(x))))
      .toEqual([['PSEM', 'strap_tamper', 1], ['PSEM', 'strap_tamper', 2], ['PSEM', 'gps_loss', 3], ['PSEM', 'gps_loss', 5]]);
  });

  it('expects a strap tamper made while offline with its own time, plus communication_loss for the gap', () => {
    const o = new Oracle(config({ devices: [...devices] }));
    const r = recordsOf('PSEM');
    const other = recordsOf('PSE');
    const out = [r.hb(T0), r.hb(T0 + MIN)].flatMap((x) => o.observe(x));
    // Other devices go on for an hour before the offline device's backlog reaches the oracle.
    for (let t = T0; t <= T0 + 60 * MIN; t += MIN) out.push(...o.observe(other.hb(t)));
    out.push(...o.observe(r.ev(T0 + 25 * MIN, 'strap_tamper')), ...o.observe(r.hb(T0 + 26 * MIN)));
    expect(out).toEqual([
      { deviceId: 'PSEM', kind: 'communication_loss', seq: 2, deviceTime: T0 + MIN, triggerTime: T0 + 11 * MIN, silentUntil: T0 + 25 * MIN },
      { deviceId: 'PSEM', kind: 'strap_tamper', seq: 3, deviceTime: T0 + 25 * MIN, triggerTime: T0 + 25 * MIN },
    ]);
  });
});

describe('low_battery (hysteresis 15 / 30) and a battery that dies', () => {
  it('raises once for a battery hovering 14–16, again only after a charge to ≥ 30', () => {
    const o = new Oracle(config({ devices: [{ deviceId: 'D1', type: 'psem' }] }));
    const r = recordsOf('D1');
    const levels = [40, 16, 15, 16, 14, 16, 15, 29, 14, 30, 16, 15];
    const out = levels.flatMap((b, i) => o.observe(i % 2 ? r.hb(T0 + i * MIN, b) : r.pos(T0 + i * MIN, 48.8, 2.3, b)));
    expect(out.map((e) => [e.kind, e.seq, e.deviceTime])).toEqual([['low_battery', 3, T0 + 2 * MIN], ['low_battery', 12, T0 + 11 * MIN]]);
  });

  it('a battery dying inside an exclusion zone: entry once, low_battery once, then communication_loss at the end', () => {
    const o = new Oracle(config({ devices: [{ deviceId: 'D1', type: 'psem' }], zones: [{ zoneId: 'Z1', kind: 'exclusion', deviceId: 'D1', polygon: ring }] }));
    const r = recordsOf('D1');
    const out: Expectation[] = [];
    let t = T0;
    for (const b of [20, 18, 16, 15, 13, 11, 9, 7, 5, 3, 1]) {
      out.push(...o.observe(r.pos(t, 48.85, 2.35, b)));
      t += 15_000; // the violation rate
    }
    const last = t - 15_000;
    expect(brief(out)).toEqual([['D1', 'exclusion_zone_entry', 1], ['D1', 'low_battery', 4]]);
    expect(o.finish(last + 600_000)).toEqual([]); // exactly the timeout before the end: not yet
  });

  it('finish() expects communication_loss only for devices heard from and silent longer than the timeout', () => {
    const o = new Oracle(config({ devices: [{ deviceId: 'D1', type: 'psem' }, { deviceId: 'D2', type: 'psem' }, { deviceId: 'D3', type: 'psem' }] }));
    const a = recordsOf('D1');
    const b = recordsOf('D2');
    o.observe(a.hb(T0));
    o.observe(a.hb(T0 + MIN, 3));
    o.observe(b.hb(T0 + 50 * MIN));
    expect(o.finish(T0 + 55 * MIN)).toEqual([{ deviceId: 'D1', kind: 'communication_loss', seq: 2, deviceTime: T0 + MIN, triggerTime: T0 + 11 * MIN }]);
  });
});
