import destination from '@turf/destination';
import { point } from '@turf/helpers';
import { describe, expect, it } from 'vitest';
import type { UplinkRecord } from '../../../protocol/uplink.ts';
import { Oracle, alarmKey, type Expectation } from './oracle.ts';
import { BarRule, pairDistanceM } from './rules/bar.ts';
import { at, config, MIN, recordsOf } from './testkit.ts';

const ORIGIN = { lat: 48.85, lon: 2.35 };
/** The point `m` metres north of the origin (negative: south): distances along a meridian are exact. */
const north = (m: number): { lat: number; lon: number } => {
  const [lon, lat] = destination(point([ORIGIN.lon, ORIGIN.lat]), Math.abs(m), m < 0 ? 180 : 0, { units: 'meters' }).geometry.coordinates as [number, number];
  return { lat, lon };
};
const T0 = at('2021-10-25T16:00:00+02:00');
const pair = (alertKm = 1): Oracle => new Oracle(config({
  offlineTimeoutMs: 30 * 86_400_000,
  devices: [{ deviceId: 'P', type: 'bar_perpetrator' }, { deviceId: 'V', type: 'bar_victim' }],
  barPairs: [{ pairId: 'B1', perpetratorId: 'P', victimId: 'V', alertKm }],
}));
const brief = (es: Expectation[]): unknown[] => es.map((e) => [e.kind, e.deviceId, e.seq]);
const feed = (o: Oracle, rs: UplinkRecord[]): Expectation[] => rs.flatMap((r) => o.observe(r));
/** Records of both units in device-time order (the victim's first on a tie, the harder order). */
const byTime = (a: UplinkRecord[], b: UplinkRecord[]): UplinkRecord[] => [...a, ...b].sort((x, y) => x.time - y.time || (x.device === y.device ? x.seq - y.seq : x.device === 'V' ? -1 : 1));

describe('BAR distance (RULES.md "bar_pre_alert and bar_alert")', () => {
  it('uses the haversine on a 6,371,008.8 m sphere rounded to the metre', () => {
    expect(pairDistanceM(ORIGIN, north(1000.49))).toBe(1000);
    expect(pairDistanceM(ORIGIN, north(1000.51))).toBe(1001);
    // 1° of latitude on that sphere: 2πR / 360 = 111,195.08 m.
    expect(pairDistanceM({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBe(111_195);
  });

  for (const [m, kind] of [[1000.49, 'bar_alert'], [1000.51, 'bar_pre_alert'], [2000.49, 'bar_pre_alert'], [2000.51, undefined]] as const) {
    it(`at ${m} m (A = 1 km) expects ${kind ?? 'nothing'}: exactly A or 2A after rounding counts as inside`, () => {
      const o = pair(1);
      const p = recordsOf('P');
      const v = recordsOf('V');
      const here = north(m);
      expect(o.observe(p.pos(T0, here.lat, here.lon))).toEqual([]);
      // Same time: the perpetrator's may still come with a position stamped T0, so the victim's waits.
      expect(o.observe(v.pos(T0, ORIGIN.lat, ORIGIN.lon))).toEqual([]);
      const out = o.observe(p.hb(T0 + MIN));
      expect(out).toEqual(kind ? [{ deviceId: 'V', kind, seq: 1, deviceTime: T0, triggerTime: T0, pairId: 'B1' }] : []);
    });
  }

  it('escalates pre-alert → alert, de-escalates silently, alerts again, clears beyond 2A', () => {
    const o = pair(1);
    const p = recordsOf('P');
    const v = recordsOf('V');
    const vs = [v.pos(T0 - 1000, ORIGIN.lat, ORIGIN.lon)];
    const ps: UplinkRecord[] = [];
    const kms = [5, 3, 1.5, 0.8, 1.5, 0.9, 2.5, 1.9, 0.5, 1];
    kms.forEach((km, i) => {
      const q = north(km * 1000);
      ps.push(p.pos(T0 + i * MIN, q.lat, q.lon));
      vs.push(v.hb(T0 + i * MIN + 30_000));
    });
    expect(brief(feed(o, byTime(ps, vs)))).toEqual([
      ['bar_pre_alert', 'P', 3], ['bar_alert', 'P', 4], ['bar_alert', 'P', 6], ['bar_pre_alert', 'P', 8], ['bar_alert', 'P', 9],
    ]);
    expect(o.finish(T0 + 20 * MIN)).toEqual([]);
  });

  it('a jump straight inside A raises only the alert, and nothing while it stays inside', () => {
    const o = pair(3);
    const p = recordsOf('P');
    const v = recordsOf('V');
    const ps = [20, 2.9, 1, 3, 0.2].map((km, i) => { const q = north(km * 1000); return p.pos(T0 + i * MIN, q.lat, q.lon); });
    const vs = [v.pos(T0, ORIGIN.lat, ORIGIN.lon), v.hb(T0 + 10 * MIN)];
    expect(brief(feed(o, byTime(ps, vs)))).toEqual([['bar_alert', 'P', 2]]);
  });

  it('gives the same alarms whatever the cross-device interleaving (ties: perpetrator first; a late same-time perpetrator position)', () => {
    const build = (): { ps: UplinkRecord[]; vs: UplinkRecord[] } => {
      const p = recordsOf('P');
      const v = recordsOf('V');
      const at = (r: typeof p, t: number, m: number): UplinkRecord => { const q = north(m); return r.pos(t, q.lat, q.lon); };
      const t1 = T0 + MIN;
      const t2 = T0 + 3 * MIN;
      const ps = [
        at(p, T0, 5000), // 1: clear
        at(p, t1, 1500), // 2: same time as the victim's move; goes first → pre-alert against the old victim position
        at(p, t1 + 30_000, 5000), // 3: 4 km from the victim: clear
        p.hb(t2), // 4: the perpetrator's latest time is t2 ...
        at(p, t2, 1300), // 5: ... and it still sends a position stamped t2: 300 m → alert, before the victim's t2 move
        p.hb(t2 + MIN), // 6
      ];
      const vs = [
        at(v, T0, 0), // 1
        at(v, t1, 1000), // 2: 500 m from the perpetrator's t1 position → alert
        at(v, t2, -10_000), // 3: runs away: clear
        v.hb(t2 + 2 * MIN), // 4
      ];
      return { ps, vs };
    };
    const expected = [['bar_pre_alert', 'P', 2], ['bar_alert', 'V', 2], ['bar_alert', 'P', 5]];
    const orders: ((ps: UplinkRecord[], vs: UplinkRecord[]) => UplinkRecord[])[] = [
      (ps, vs) => [...ps, ...vs],
      (ps, vs) => [...vs, ...ps],
      byTime,
      (ps, vs) => [...ps, ...vs].sort((x, y) => x.time - y.time || (x.device === y.device ? x.seq - y.seq : x.device === 'P' ? -1 : 1)),
      (ps, vs) => { // a seeded shuffle that keeps each device's seq order
        const out: UplinkRecord[] = [];
        let i = 0;
        let j = 0;
        let s = 7;
        while (i < ps.length || j < vs.length) {
          s = (s * 1103515245 + 12345) % 2147483648;
          if (j >= vs.length || (i < ps.length && s % 2 === 0)) out.push(ps[i++]!);
          else out.push(vs[j++]!);
        }
        return out;
      },
    ];
    const results = orders.map((order) => {
      const { ps, vs } = build();
      const o = pair(1);
      const out = [...feed(o, order(ps, vs)), ...o.finish(T0 + 10 * MIN)];
      return out.sort((a, b) => a.deviceTime - b.deviceTime || alarmKey(a).localeCompare(alarmKey(b)));
    });
    for (const r of results) expect(brief(r)).toEqual(expected);
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]!.every((e) => e.pairId === 'B1')).toBe(true);
  });

  it('evaluates at finish up to the final watermark, inclusive, and never past it', () => {
    const o = pair(1);
    const p = recordsOf('P');
    const v = recordsOf('V');
    const q5 = north(5000);
    const q45 = north(4500);
    const rs = [
      p.pos(T0, q5.lat, q5.lon), v.pos(T0, ORIGIN.lat, ORIGIN.lon),
      p.hb(T0 + 2 * MIN), // the perpetrator's last record
      v.pos(T0 + 2 * MIN, q45.lat, q45.lon), // 500 m, at exactly the final watermark
      v.pos(T0 + 3 * MIN, q5.lat, q5.lon), // past the watermark: never evaluated
      v.hb(T0 + 4 * MIN),
    ];
    expect(feed(o, rs)).toEqual([]);
    expect(o.finish(T0 + 5 * MIN)).toEqual([{ deviceId: 'V', kind: 'bar_alert', seq: 2, deviceTime: T0 + 2 * MIN, triggerTime: T0 + 2 * MIN, pairId: 'B1' }]);
  });

  it('expects nothing past a silent unit\'s last record, and communication_loss for it at the end', () => {
    const o = new Oracle(config({
      devices: [{ deviceId: 'P', type: 'bar_perpetrator' }, { deviceId: 'V', type: 'bar_victim' }],
      barPairs: [{ pairId: 'B1', perpetratorId: 'P', victimId: 'V', alertKm: 1 }],
    }));
    const p = recordsOf('P');
    const v = recordsOf('V');
    const near = north(200);
    const vs = [v.pos(T0, ORIGIN.lat, ORIGIN.lon), v.hb(T0 + MIN)]; // then the victim unit is unplugged
    const ps = Array.from({ length: 30 }, (_, i) => (i < 5 ? p.pos(T0 + i * MIN, 48.9, 2.35) : p.pos(T0 + i * MIN, near.lat, near.lon)));
    expect(feed(o, byTime(ps, vs))).toEqual([]);
    expect(o.finish(T0 + 30 * MIN)).toEqual([{ deviceId: 'V', kind: 'communication_loss', seq: 2, deviceTime: T0 + MIN, triggerTime: T0 + 11 * MIN }]);
  });

  it('starts the SLA clock when the pair becomes decidable: the silent unit\'s next record, whatever the arrival order', () => {
    const p = recordsOf('P');
    const v = recordsOf('V');
    const near = north(500);
    const ps = [p.pos(T0, 48.9, 2.35), p.pos(T0 + MIN, near.lat, near.lon), p.hb(T0 + 50 * MIN)];
    // The victim unit speaks at T0, then nothing until 40 minutes later (it was silent).
    const vs = [v.pos(T0, ORIGIN.lat, ORIGIN.lon), v.hb(T0 + 40 * MIN), v.hb(T0 + 45 * MIN)];
    const alert = { deviceId: 'P', kind: 'bar_alert', seq: 2, deviceTime: T0 + MIN, triggerTime: T0 + 40 * MIN, pairId: 'B1' };
    for (const order of [byTime(ps, vs), [...ps, ...vs], [...vs, ...ps]]) {
      const o = pair(1);
      expect([...feed(o, order), ...o.finish(T0 + 60 * MIN)]).toEqual([alert]);
    }
    // Decidable at once when the victim had already reported past it.
    const o = pair(1);
    const vNow = recordsOf('V');
    const pNow = recordsOf('P');
    expect(feed(o, [vNow.pos(T0, ORIGIN.lat, ORIGIN.lon), vNow.hb(T0 + 90_000), pNow.pos(T0 + MIN, near.lat, near.lon)]))
      .toEqual([{ ...alert, seq: 1, triggerTime: T0 + 90_000 }]);
  });

  it('holds positions only until the watermark passes them', () => {
    const rule = new BarRule({ pairId: 'B1', perpetratorId: 'P', victimId: 'V', alertKm: 1 });
    const p = recordsOf('P');
    const v = recordsOf('V');
    const out: Expectation[] = [];
    for (let i = 0; i < 2000; i++) {
      rule.observe(p.pos(T0 + i * 15_000, 48.9, 2.35), out);
      rule.observe(v.pos(T0 + i * 15_000 + 1, 48.85, 2.35), out);
      expect(rule.pending).toBeLessThanOrEqual(2);
    }
    expect(out).toEqual([]);
  });
});
