import { describe, expect, it } from 'vitest';
import type { UplinkRecord } from '../../protocol/uplink.ts';
import { BackupBattery } from './battery.ts';
import { DEVICE_DEFAULTS } from './defaults.ts';
import type { PlannedPse } from './fleet-plan.ts';
import { HomeUnit } from './home-unit.ts';
import { localDay, periodsOnDay } from './localtime.ts';
import { Trajectory } from './mobility.ts';
import { rng } from './random.ts';
import type { Step } from './routine.ts';
import { eventsOf, HOUR, plan, QUIET, recordsOf } from './test-support.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (r: UplinkRecord): string => new Date(r.time).toISOString();
const curfew = (days = [1, 2, 3, 4, 5, 6, 7]) => ({ days, from: '20:00', to: '07:00', crossesMidnight: true });

function pse(seed: number, start: number, behaviour = QUIET, n = 1): PlannedPse[] {
  return plan(seed, { pse: n }, behaviour, start).devices as PlannedPse[];
}

describe('PSE home unit', () => {
  it('marks curfew_start at the UTC instants of local 20:00 across both 2021 DST nights', () => {
    const spring = at('2021-03-26T12:00:00Z');
    const [d1] = pse(1, spring);
    const s = eventsOf(recordsOf({ ...d1!, curfews: [curfew()] }, 1, spring, 96), 'curfew_start').map(iso);
    expect(s).toEqual(['2021-03-26T19:00:00.000Z', '2021-03-27T19:00:00.000Z', '2021-03-28T18:00:00.000Z', '2021-03-29T18:00:00.000Z']);
    const autumn = at('2021-10-29T12:00:00Z');
    const [d2] = pse(1, autumn);
    const a = eventsOf(recordsOf({ ...d2!, curfews: [curfew()] }, 1, autumn, 96), 'curfew_start').map(iso);
    expect(a).toEqual(['2021-10-29T18:00:00.000Z', '2021-10-30T18:00:00.000Z', '2021-10-31T19:00:00.000Z', '2021-11-01T19:00:00.000Z']);
    const weekdays = eventsOf(recordsOf({ ...d2!, curfews: [curfew([1, 2, 3, 4, 5])] }, 1, autumn, 96), 'curfew_start').map(iso);
    expect(weekdays).toEqual(['2021-10-29T18:00:00.000Z', '2021-11-01T19:00:00.000Z']); // Friday, then Monday
  });

  it('reports rf_absent 60 s after the last beacon heard and rf_present at the first one heard again', () => {
    const start = at('2021-10-25T12:00:00Z');
    const home = { lat: 48.85, lon: 2.35 };
    const leave = start + 30 * 60_000 + 7_000;
    const steps: Step[] = [{ at: leave, place: { lat: 48.86, lon: 2.35 } }, { at: leave + HOUR, place: home }];
    const source = { next: (): Step => steps.shift() ?? { at: leave + 48 * HOUR, place: home } };
    const trajectory = new Trajectory(source, home, start - HOUR);
    const unit = new HomeUnit({
      deviceId: 'PSE-00001', cfg: { ...DEVICE_DEFAULTS }, start, firstRecordDelayMs: 0, trajectory, curfews: [],
      battery: new BackupBattery({ start, cutsPerDay: 0 }, rng(1, 'b')), beaconPhaseMs: 5_000, events: [], faultAt: Infinity,
    });
    const made: UplinkRecord[] = [];
    while (unit.nextRecordAt() <= start + 3 * HOUR) made.push(unit.takeRecord());
    const [absent, present] = eventsOf(made);
    // Beacons at :05, :25, :45: the last one heard before leaving at 30:07 was 30:05; 60 s later, 31:05.
    expect(absent).toMatchObject({ event: 'rf_absent', time: start + 31 * 60_000 + 5_000 });
    const arrive = leave + HOUR + Math.round((1.112 / 5) * HOUR); // 1.1 km back on foot
    expect(present).toMatchObject({ event: 'rf_present' });
    expect(present!.time - arrive).toBeGreaterThanOrEqual(-2_000);
    expect(present!.time - arrive).toBeLessThanOrEqual(22_000);
    expect((present!.time - 5_000) % 20_000).toBe(0);
    for (let i = 1; i < made.length; i++) expect(made[i]!.time - made[i - 1]!.time).toBeLessThanOrEqual(DEVICE_DEFAULTS.heartbeatMs);
  });

  it('keeps a quiet wearer home through every curfew period, and reports comings and goings in turn', () => {
    const start = at('2021-10-25T14:00:00+02:00');
    for (const d of pse(2, start, QUIET, 30)) {
      const made = recordsOf(d, 2, start, 72);
      const periods = [0, 1, 2, 3].flatMap((k) => periodsOnDay(d.curfews, localDay(start) + k));
      const rf = eventsOf(made).filter((r) => r.type === 'event' && r.event.startsWith('rf_'));
      for (const r of rf) expect(periods.some((p) => p.open <= r.time && r.time < p.close), `${d.deviceId} ${iso(r)}`).toBe(false);
      rf.forEach((r, i) => i > 0 && expect(r).not.toMatchObject({ event: (rf[i - 1] as { event: string }).event }));
      expect(eventsOf(made).filter((r) => r.type === 'event' && !r.event.startsWith('rf_') && r.event !== 'curfew_start')).toEqual([]);
    }
  });

  it('under high rates makes every event its alarms need within a few hours of the evening', () => {
    const start = at('2021-10-25T18:00:00+02:00');
    const behaviour = {
      ...QUIET, curfewAbsencesPerDay: 6, lateReturnsPerDay: 2, strapTampersPerDay: 12, homeUnitTampersPerDay: 12,
      homeUnitMovesPerDay: 12, mainsCutsPerDay: 12,
    };
    const seen = new Set<string>();
    let lateReturns = 0;
    let absences = 0;
    for (const d of pse(3, start, behaviour, 6)) {
      const made = recordsOf(d, 3, start, 6);
      for (const r of eventsOf(made)) seen.add((r as { event: string }).event);
      const [p] = periodsOnDay(d.curfews, localDay(start));
      const rf = eventsOf(made).filter((r) => r.type === 'event' && r.event.startsWith('rf_')) as { event: string; time: number }[];
      const before = rf.filter((r) => r.time <= p!.open).at(-1);
      if (before?.event === 'rf_absent') lateReturns++;
      absences += rf.filter((r) => r.event === 'rf_absent' && r.time > p!.open && r.time < p!.close).length;
    }
    expect([...seen].sort()).toEqual(['curfew_start', 'mains_lost', 'mains_restored', 'rf_absent', 'rf_present', 'strap_tamper', 'unit_moved', 'unit_tamper']);
    expect(lateReturns).toBeGreaterThanOrEqual(4); // late at 20:00 (every period, at this rate)
    expect(absences).toBeGreaterThanOrEqual(3); // left home after 20:00
  });

  it('goes silent when its backup battery runs out, until the mains return', () => {
    const start = at('2021-10-25T14:00:00+02:00');
    let silences = 0;
    for (const d of pse(4, start, { ...QUIET, mainsCutsPerDay: 8 }, 6)) {
      const made = recordsOf(d, 4, start, 72);
      for (let i = 1; i < made.length; i++) {
        if (made[i]!.time - made[i - 1]!.time <= DEVICE_DEFAULTS.heartbeatMs) continue;
        silences++;
        expect(made[i - 1]!.battery).toBeLessThanOrEqual(1);
        expect(made[i]).toMatchObject({ type: 'event', event: 'mains_restored', battery: 0 });
      }
    }
    expect(silences).toBeGreaterThan(0);
  });
});
