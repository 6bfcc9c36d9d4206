import { describe, expect, it } from 'vitest';
import { virtualClock } from '../protocol/clock.ts';
import { distanceKm, offset, type LatLon } from '../sim/model/geo.ts';
import { rng } from '../sim/model/random.ts';
import type { RoutineProfile } from '../sim/model/routine.ts';
import { FakeHilSession } from '../test/support/fake-hil-session.ts';
import { FIX_INJECT_INTERVAL_MS, StimulusSchedule, StimulusStream, type HilStimulusStep } from './stimulus.ts';
import { wearerTrajectory, type Visit } from './wearer.ts';

const start = Date.parse('2021-10-25T14:00:00+02:00');
const MIN = 60_000;
const home: LatLon = { lat: 45.764, lon: 4.8357 };
/** A wearer who stays at home: no work, no errands. */
const stayAtHome: RoutineProfile = { home, workDays: [], leaveMin: 480, workEndMin: 1020, earliestOutMin: 420, homeByMin: 1260, places: [], errandsPerDay: 0 };

function schedule(steps: HilStimulusStep[] = [], visits: Visit[] = []): StimulusSchedule {
  return new StimulusSchedule({ trajectory: wearerTrajectory('HIL-PSEM-1', stayAtHome, 7, start, visits), steps, start, noise: rng(7, 'gps', 'HIL-PSEM-1') });
}

describe('the stimulus schedule (virtual time → commands)', () => {
  it('gives a fix at the fastest GPS cadence of DOMAIN.md (15 s), where the wearer is', () => {
    const s = schedule();
    const first = s.due(start);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ at: start, kind: 'fix', accuracyM: 5 });
    const f = first[0] as { lat: number; lon: number };
    expect(distanceKm(f, home) * 1000).toBeLessThan(30);
    expect(s.due(start + FIX_INJECT_INTERVAL_MS - 1)).toEqual([]);
    expect(s.due(start + FIX_INJECT_INTERVAL_MS)).toEqual([expect.objectContaining({ at: start + 15_000, kind: 'fix' })]);
  });

  it('sends every event in time order, and after a stall only the latest fix', () => {
    const s = schedule([{ at: start + 3 * MIN, action: 'battery', percent: 12 }, { at: start + 2 * MIN, action: 'tamper' }, { at: start + 4 * MIN, action: 'charger', connected: true }]);
    s.due(start);
    const out = s.due(start + 5 * MIN + 1000);
    expect(out.map((c) => [c.kind, c.at - start])).toEqual([['tamper', 2 * MIN], ['battery', 3 * MIN], ['charger', 4 * MIN], ['fix', 5 * MIN]]);
    expect(out[1]).toMatchObject({ percent: 12 });
    expect(s.due(start + 5 * MIN + 14_000)).toEqual([]);
  });

  it('walks the wearer into a zone for its visit, and back home after it', () => {
    const zone = offset(home, 3, 90);
    const s = schedule([], [{ from: start + MIN, stayMs: 20 * MIN, place: zone }]);
    const fixAt = (t: number): LatLon => s.fixAt(t) as unknown as LatLon;
    expect(distanceKm(fixAt(start), home)).toBeLessThan(0.03);
    // 3 km at city speed (30 km/h, sim/model/mobility.ts) is 6 minutes: there at +7m, for 20 minutes from then.
    expect(distanceKm(fixAt(start + 4 * MIN), zone)).toBeGreaterThan(1);
    expect(distanceKm(fixAt(start + 7 * MIN), zone)).toBeLessThan(0.03);
    expect(distanceKm(fixAt(start + 26 * MIN), zone)).toBeLessThan(0.03);
    expect(distanceKm(fixAt(start + 40 * MIN), home)).toBeLessThan(0.03);
  });
});

/** Lets the stream's promise chain run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

function stream(steps: HilStimulusStep[] = []) {
  let real = 1_000_000;
  const clock = virtualClock({ startVirtual: start, startReal: real, speed: 60 }, () => real);
  const session = new FakeHilSession();
  const logs: string[] = [];
  // The test ticks by hand: the stream's own timer never fires within it.
  const s = new StimulusStream({ session, deviceId: 'HIL-PSEM-1', schedule: schedule(steps), clock, speed: 60, log: (l) => logs.push(l), tickMs: 3_600_000 });
  const advance = async (virtualMs: number): Promise<void> => {
    real += virtualMs / 60;
    s.tick();
    await settle();
  };
  return { s, session, clock, logs, advance };
}

describe('the stimulus stream', () => {
  it('sets the device clock at the start at the run speed, then sends what falls due', async () => {
    const { s, session, advance } = stream([{ at: start + MIN, action: 'tamper' }]);
    s.start();
    await settle();
    expect(session.commands.slice(0, 2)).toEqual([{ cmd: 'setTime', time: start, speed: 60 }, expect.objectContaining({ cmd: 'fix' })]);
    await advance(MIN);
    expect(session.commands.slice(2).map((c) => c.cmd)).toEqual(['tamper', 'fix']);
    expect(s.stats).toMatchObject({ clockSets: 1, events: 1, fixes: 2, failed: 0 });
    await s.stop();
  });

  it('keeps an event due while the device is away and sends it when it is back, after its clock', async () => {
    const { s, session, clock, advance } = stream([{ at: start + 2 * MIN, action: 'tamper' }]);
    s.start();
    await settle();
    session.setState('down');
    await advance(3 * MIN);
    expect(session.sent('tamper')).toEqual([]);
    expect(s.pendingEvents).toBe(1);
    session.setState('up');
    await settle();
    const after = session.commands.slice(2).map((c) => c.cmd);
    expect(after[0]).toBe('setTime');
    expect(after).toContain('tamper');
    expect(session.sent('setTime')[1]).toEqual({ cmd: 'setTime', time: clock.now(), speed: 60 });
    expect(s.pendingEvents).toBe(0);
    expect(s.stats.clockSets).toBe(2);
    await s.stop();
  });

  it('gives up an event the device keeps refusing while up, and says so', async () => {
    const { s, session, logs, advance } = stream([{ at: start + MIN, action: 'battery', percent: 5 }]);
    session.refuse = (c) => (c.cmd === 'battery' ? 'NAK: battery out of range' : undefined);
    s.start();
    await settle();
    await advance(MIN);
    for (let i = 0; i < 5; i++) await advance(1000);
    expect(s.stats.dropped).toBe(1);
    expect(s.pendingEvents).toBe(0);
    expect(logs.join('\n')).toMatch(/HIL-PSEM-1: battery not acknowledged after 5 tries, given up: NAK: battery out of range/);
    await s.stop();
  });
});
