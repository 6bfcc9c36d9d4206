import { describe, expect, it } from 'vitest';
import type { Window } from '../../../protocol/provisioning.ts';
import { Oracle, type Expectation } from './oracle.ts';
import { at, config, recordsOf } from './testkit.ts';

// Sparse records on purpose: a silence this long is not what these tests are about.
const quiet = { offlineTimeoutMs: 30 * 86_400_000 };
const everyNight: Window = { days: [1, 2, 3, 4, 5, 6, 7], from: '20:00', to: '07:00', crossesMidnight: true };
const pse = (windows: Window[] = [everyNight]): Oracle =>
  new Oracle(config({ ...quiet, devices: [{ deviceId: 'H1', type: 'pse', home: { lat: 48.85, lon: 2.35 } }], curfews: [{ deviceId: 'H1', windows }] }));
const brief = (es: Expectation[]): unknown[] => es.map((e) => [e.kind, e.seq, e.deviceTime]);

describe('curfew_absence and late_return (RULES.md "PSE")', () => {
  it('on the fall-back morning an rf_absent at 06:30 local is inside the curfew, at 07:00 outside', () => {
    for (const [iso, kinds] of [
      ['2021-10-31T06:30:00+01:00', ['curfew_absence']], // with a fixed +02:00 the period would have ended at 06:00
      ['2021-10-31T06:59:59.999+01:00', ['curfew_absence']],
      ['2021-10-31T07:00:00+01:00', []],
    ] as const) {
      const o = pse();
      const r = recordsOf('H1');
      o.observe(r.hb(at('2021-10-30T21:00:00+02:00')));
      const out = o.observe(r.ev(at(iso), 'rf_absent'));
      expect([iso, out.map((e) => e.kind)]).toEqual([iso, kinds]);
    }
  });

  it('on the spring-forward morning the curfew ends at 07:00 summer time', () => {
    const o = pse();
    const r = recordsOf('H1');
    expect(o.observe(r.ev(at('2021-03-28T06:59:00+02:00'), 'rf_absent')).map((e) => e.kind)).toEqual(['curfew_absence']);
    const o2 = pse();
    const r2 = recordsOf('H1');
    expect(o2.observe(r2.ev(at('2021-03-28T07:00:00+02:00'), 'rf_absent'))).toEqual([]);
  });

  it('a 01:30 → 02:30 window on the spring night closes at 03:00 summer time (02:30 does not exist)', () => {
    const w: Window = { days: [7], from: '01:30', to: '02:30', crossesMidnight: false };
    const o = pse([w]);
    const r = recordsOf('H1');
    expect(brief([
      r.ev(at('2021-03-28T01:20:00+01:00'), 'rf_absent'),
      r.hb(at('2021-03-28T01:29:59.999+01:00')),
      r.hb(at('2021-03-28T01:30:00+01:00')),
    ].flatMap((x) => o.observe(x)))).toEqual([['late_return', 3, at('2021-03-28T01:30:00+01:00')]]);
    const o2 = pse([w]);
    const r2 = recordsOf('H1');
    expect(o2.observe(r2.ev(at('2021-03-28T01:59:59.999+01:00'), 'rf_absent'))).toHaveLength(1);
    const o3 = pse([w]);
    const r3 = recordsOf('H1');
    expect(o3.observe(r3.ev(at('2021-03-28T03:00:00+02:00'), 'rf_absent'))).toEqual([]);
  });

  it('late_return when out before the period opened (at the first record inside it), curfew_absence when leaving during it', () => {
    const o = pse();
    const r = recordsOf('H1');
    expect(brief([
      r.ev(at('2021-10-25T19:30:00+02:00'), 'rf_absent'), // 1: out before the curfew
      r.hb(at('2021-10-25T19:59:59.999+02:00')), // 2: not yet in the period
      r.ev(at('2021-10-25T20:00:00+02:00'), 'curfew_start'), // 3: the period opens: late_return
      r.hb(at('2021-10-25T20:03:00+02:00')), // 4: still out: the alarm is open, nothing new
      r.ev(at('2021-10-25T20:30:00+02:00'), 'rf_present'), // 5: back: closes the alarm
      r.ev(at('2021-10-25T22:00:00+02:00'), 'rf_absent'), // 6: leaves again in the same period
      r.ev(at('2021-10-25T22:00:30+02:00'), 'rf_absent'), // 7: a repeat changes nothing
      r.hb(at('2021-10-26T06:59:00+02:00')), // 8
      r.hb(at('2021-10-26T07:00:00+02:00')), // 9: period over, still out
      r.hb(at('2021-10-26T19:00:00+02:00')), // 10
      r.hb(at('2021-10-26T20:00:00.001+02:00')), // 11: a new period starts with no alarm open; out since 22:00 yesterday
    ].flatMap((x) => o.observe(x)))).toEqual([
      ['late_return', 3, at('2021-10-25T20:00:00+02:00')],
      ['curfew_absence', 6, at('2021-10-25T22:00:00+02:00')],
      ['late_return', 11, at('2021-10-26T20:00:00.001+02:00')],
    ]);
  });

  it('an rf_absent exactly at the opening is a curfew_absence (the absence did not begin before it)', () => {
    const o = pse();
    const r = recordsOf('H1');
    expect(brief(o.observe(r.ev(at('2021-10-25T20:00:00+02:00'), 'rf_absent')))).toEqual([['curfew_absence', 1, at('2021-10-25T20:00:00+02:00')]]);
  });

  it('raises nothing for a wearer present all night, or absent only outside the curfew, or a device without curfew', () => {
    const o = pse();
    const r = recordsOf('H1');
    expect([
      r.hb(at('2021-10-25T21:00:00+02:00')), r.ev(at('2021-10-26T08:00:00+02:00'), 'rf_absent'),
      r.ev(at('2021-10-26T19:59:00+02:00'), 'rf_present'), r.hb(at('2021-10-26T20:30:00+02:00')),
    ].flatMap((x) => o.observe(x))).toEqual([]);
    const none = new Oracle(config({ ...quiet, devices: [{ deviceId: 'H2', type: 'pse', home: { lat: 48.85, lon: 2.35 } }] }));
    const r2 = recordsOf('H2');
    expect(none.observe(r2.ev(at('2021-10-25T22:00:00+02:00'), 'rf_absent'))).toEqual([]);
  });

  it('uses every curfew entry of a device, and a second period on the same day starts afresh', () => {
    const o = new Oracle(config({
      ...quiet,
      devices: [{ deviceId: 'H1', type: 'pse', home: { lat: 48.85, lon: 2.35 } }],
      curfews: [
        { deviceId: 'H1', windows: [{ days: [1], from: '12:00', to: '13:00', crossesMidnight: false }] },
        { deviceId: 'H1', windows: [{ days: [1], from: '18:00', to: '19:00', crossesMidnight: false }] },
      ],
    }));
    const r = recordsOf('H1');
    expect(brief([
      r.ev(at('2021-10-25T12:10:00+02:00'), 'rf_absent'), r.hb(at('2021-10-25T14:00:00+02:00')),
      r.hb(at('2021-10-25T18:00:00+02:00')),
    ].flatMap((x) => o.observe(x)))).toEqual([
      ['curfew_absence', 1, at('2021-10-25T12:10:00+02:00')],
      ['late_return', 3, at('2021-10-25T18:00:00+02:00')],
    ]);
  });
});
