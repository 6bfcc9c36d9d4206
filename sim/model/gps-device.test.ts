import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { point, polygon } from '@turf/helpers';
import { describe, expect, it } from 'vitest';
import type { PositionRecord, UplinkRecord } from '../../protocol/uplink.ts';
import { DEFAULT_BEHAVIOUR, expectedAlarmsPerDay } from './behaviour.ts';
import { DEVICE_DEFAULTS } from './defaults.ts';
import type { PlannedBarPerpetrator, PlannedPsem } from './fleet-plan.ts';
import { distanceKm } from './geo.ts';
import { localDay, periodsOnDay } from './localtime.ts';
import { eventsOf, plan, positionsOf, QUIET, recordsOf } from './test-support.ts';

const at = (iso: string): number => Date.parse(iso);
const inside = (ring: [number, number][], r: PositionRecord): boolean => booleanPointInPolygon(point([r.lon, r.lat]), polygon([ring]));

describe('PSEM bracelet', () => {
  const start = at('2021-10-25T16:00:00+02:00');

  it('never enters its exclusion zone nor leaves home at night unless a violation is planned', () => {
    for (const d of plan(5, { psem: 20 }, QUIET, start).devices as PlannedPsem[]) {
      const fixes = positionsOf(recordsOf(d, 5, start, 72));
      const nights = [0, 1, 2, 3].flatMap((k) => periodsOnDay(d.inclusion.windows!, localDay(start) + k));
      expect(fixes.filter((r) => inside(d.exclusion.ring, r))).toEqual([]);
      expect(fixes.filter((r) => nights.some((p) => p.open <= r.time && r.time < p.close) && !inside(d.inclusion.ring, r))).toEqual([]);
    }
  });

  it('under high rates makes every event and position its alarms need within a few hours', () => {
    const behaviour = { ...QUIET, exclusionEntriesPerDay: 8, inclusionExitsPerDay: 4, strapTampersPerDay: 8, gpsLossesPerDay: 8, forgetToChargePerDay: 12 };
    const seen = new Set<string>();
    let entries = 0;
    let exits = 0;
    let low = 0;
    for (const d of plan(6, { psem: 8 }, behaviour, start).devices as PlannedPsem[]) {
      const made = recordsOf(d, 6, start, 8);
      for (const r of eventsOf(made)) seen.add((r as { event: string }).event);
      const fixes = positionsOf(made);
      const nights = periodsOnDay(d.inclusion.windows!, localDay(start));
      entries += fixes.filter((r, i) => inside(d.exclusion.ring, r) && (i === 0 || !inside(d.exclusion.ring, fixes[i - 1]!))).length;
      exits += fixes.some((r) => nights.some((p) => p.open <= r.time && r.time < p.close) && !inside(d.inclusion.ring, r)) ? 1 : 0;
      if (made.some((r) => r.battery <= 15)) low++;
      // No fix while GPS is lost (5 min before gps_lost until gps_restored).
      const lost = eventsOf(made, 'gps_lost');
      for (const l of lost) {
        const back = eventsOf(made, 'gps_restored').find((r) => r.time > l.time);
        expect(fixes.filter((r) => r.time >= l.time - DEVICE_DEFAULTS.gpsLostAfterMs && r.time < (back?.time ?? Infinity))).toEqual([]);
      }
    }
    expect([...seen].sort()).toEqual(['charger_connected', 'charger_disconnected', 'gps_lost', 'gps_restored', 'strap_tamper']);
    expect(entries).toBeGreaterThanOrEqual(4);
    expect(exits).toBeGreaterThanOrEqual(3);
    expect(low).toBeGreaterThanOrEqual(3);
  });

  it('reports every 15 s inside its exclusion zone, with GPS noise ≤ 10 m at p90 when still', () => {
    const morning = at('2021-10-25T09:00:00+02:00');
    const [d] = plan(7, { psem: 1 }, { ...QUIET, exclusionEntriesPerDay: 24 }, morning).devices as PlannedPsem[];
    const fixes = positionsOf(recordsOf(d!, 7, morning, 8));
    const gaps = fixes.slice(1).flatMap((r, i) => (inside(d!.exclusion.ring, r) && inside(d!.exclusion.ring, fixes[i]!) ? [r.time - fixes[i]!.time] : []));
    expect(gaps.length).toBeGreaterThan(10);
    expect(gaps.every((g) => g === DEVICE_DEFAULTS.violationFixIntervalMs)).toBe(true);
    const night = at('2021-10-26T00:00:00+02:00');
    const errors = (plan(7, { psem: 40 }, QUIET, night).devices as PlannedPsem[])
      .flatMap((q) => positionsOf(recordsOf(q, 7, night, 5)).map((r) => distanceKm(r, q.routine.home) * 1000))
      .sort((a, b) => a - b);
    expect(errors.length).toBeGreaterThan(150);
    expect(errors[Math.floor(errors.length * 0.9)]).toBeLessThanOrEqual(10);
  });

  it('goes silent with an empty battery, until charged', () => {
    let silences = 0;
    for (const d of plan(8, { psem: 12 }, { ...QUIET, forgetToChargePerDay: 24 }, start).devices) {
      const made = recordsOf(d, 8, start, 20);
      for (let i = 1; i < made.length; i++) {
        if (made[i]!.time - made[i - 1]!.time <= DEVICE_DEFAULTS.heartbeatMs) continue;
        silences++;
        expect(made[i - 1]!.battery).toBeLessThanOrEqual(1);
        expect(made[i]).toMatchObject({ type: 'event', event: 'charger_connected', battery: 0 });
      }
    }
    expect(silences).toBeGreaterThan(0);
  });
});

/** The BAR pair stream of docs/RULES.md (merged by time, perpetrator first), as distance alarms. */
function distanceAlarms(p: UplinkRecord[], v: UplinkRecord[], alertKm: number): { kind: string; d: number }[] {
  const stream = [...positionsOf(p).map((r) => ({ r, who: 0 })), ...positionsOf(v).map((r) => ({ r, who: 1 }))]
    .sort((a, b) => a.r.time - b.r.time || a.who - b.who);
  const A = alertKm * 1000;
  let lp: PositionRecord | undefined;
  let lv: PositionRecord | undefined;
  let state = 'clear';
  const out: { kind: string; d: number }[] = [];
  for (const { r, who } of stream) {
    if (who === 0) lp = r;
    else lv = r;
    if (!lp || !lv) continue;
    const d = Math.round(distanceKm(lp, lv) * 1000);
    if (d <= A && state !== 'alert') {
      out.push({ kind: 'bar_alert', d });
      state = 'alert';
    } else if (d <= 2 * A && d > A && state === 'clear') {
      out.push({ kind: 'bar_pre_alert', d });
      state = 'pre';
    } else if (d > A && d <= 2 * A && state === 'alert') state = 'pre';
    else if (d > 2 * A) state = 'clear';
  }
  return out;
}

describe('BAR pair', () => {
  const start = at('2021-10-25T14:00:00+02:00');

  it('approaches through 2A into A, or stops short in the pre-alert ring, and backs off', () => {
    const behaviour = { ...QUIET, barApproachesPerDay: 6, barPreAlertStopsPerDay: 3 };
    let pre = 0;
    let alerts = 0;
    let stops = 0;
    for (const d of plan(9, { bar: 4 }, behaviour, start).devices.filter((x): x is PlannedBarPerpetrator => x.type === 'bar_perpetrator')) {
      const p = recordsOf(d, 9, start, 12);
      const v = recordsOf(plan(9, { bar: 4 }, behaviour, start).devices.find((x) => x.deviceId === d.pair.victimId)!, 9, start, 12);
      const alarms = distanceAlarms(p, v, d.pair.alertKm);
      alarms.forEach((a, i) => {
        if (a.kind === 'bar_alert') {
          alerts++;
          expect(alarms[i - 1]?.kind).toBe('bar_pre_alert'); // escalation, never a jump inside A
        } else {
          pre++;
          if (alarms[i + 1]?.kind !== 'bar_alert') stops++;
        }
      });
    }
    expect(alerts).toBeGreaterThanOrEqual(6);
    expect(stops).toBeGreaterThanOrEqual(2);
    expect(pre).toBe(alerts + stops);
  });

  it('lives far enough apart that daily life raises no distance alarm; victims press SOS, perpetrators tamper', () => {
    const behaviour = { ...QUIET, sosPerDay: 6, strapTampersPerDay: 6 };
    const pairs = plan(10, { bar: 5 }, behaviour, start).devices;
    let sos = 0;
    let straps = 0;
    for (const d of pairs.filter((x): x is PlannedBarPerpetrator => x.type === 'bar_perpetrator')) {
      expect(Number.isInteger(d.pair.alertKm) && d.pair.alertKm >= 1 && d.pair.alertKm <= 10).toBe(true);
      const p = recordsOf(d, 10, start, 48);
      const v = recordsOf(pairs.find((x) => x.deviceId === d.pair.victimId)!, 10, start, 48);
      expect(distanceAlarms(p, v, d.pair.alertKm)).toEqual([]);
      sos += eventsOf(v, 'sos').length;
      straps += eventsOf(p, 'strap_tamper').length;
      expect(eventsOf(p, 'sos')).toEqual([]);
      expect(eventsOf(v, 'strap_tamper')).toEqual([]);
    }
    expect(sos).toBeGreaterThan(20);
    expect(straps).toBeGreaterThan(20);
  });

  it('makes 3–4 alarms per pair per day by default (DOMAIN.md)', () => {
    const e = expectedAlarmsPerDay(DEFAULT_BEHAVIOUR, { pse: 0, psem: 0, bar: 1 });
    const perPair = Object.values(e).reduce((a, b) => a + b, 0);
    expect(perPair).toBeGreaterThanOrEqual(3);
    expect(perPair).toBeLessThanOrEqual(4);
  });
});

