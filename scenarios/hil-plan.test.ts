import { describe, expect, it } from 'vitest';
import { VigilError } from '../protocol/errors.ts';
import { provisionRun } from './runner/provision.ts';
import { validateScenario, type Scenario } from './schema.ts';

const base = { name: 'x', duration: '30m', fleet: { psem: 3, bar: 1 }, start: '2021-10-25T14:00:00+02:00' };

function scenarioOf(hil: unknown[]): Scenario {
  const r = validateScenario({ ...base, hil });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.scenario;
}

describe('a wearer per real device', () => {
  it('plans a new PSEM wearer with its own zones, provisioned like a virtual one', () => {
    const p = provisionRun(scenarioOf([{ device: 'serial=E1', stimulus: [{ at: '+5m', enterZone: 'Z-X-HIL-PSEM-1', stay: '4m' }] }]), 'x.scenario.ts');
    expect(p.plan.devices.map((d) => d.deviceId)).toEqual(['PSEM-00001', 'PSEM-00002', 'PSEM-00003', 'BAR-P-00001', 'BAR-V-00001']);
    expect(p.hil).toHaveLength(1);
    const h = p.hil[0]!;
    expect(h).toMatchObject({ deviceId: 'HIL-PSEM-1', role: 'psem', mode: 'gateway', tookOver: undefined });
    expect(h.wearer.deviceId).toBe('HIL-PSEM-1');
    expect(p.fleet.devices.find((d) => d.deviceId === 'HIL-PSEM-1')).toMatchObject({ type: 'psem', operator: 'operator-1' });
    expect(p.fleet.zones.filter((z) => z.deviceId === 'HIL-PSEM-1').map((z) => z.zoneId).sort()).toEqual(['Z-I-HIL-PSEM-1', 'Z-X-HIL-PSEM-1']);
    // The visit heads for the middle of the exclusion zone, for the stay asked.
    const visit = h.visits[0]!;
    expect(visit.stayMs).toBe(240_000);
    const ring = p.fleet.zones.find((z) => z.zoneId === 'Z-X-HIL-PSEM-1')!.polygon;
    const lats = ring.map((c) => c[1]);
    expect(visit.place.lat).toBeGreaterThan(Math.min(...lats));
    expect(visit.place.lat).toBeLessThan(Math.max(...lats));
  });

  it('takes over a planned wearer: the virtual device leaves the fleet, its zones name the real device', () => {
    const p = provisionRun(scenarioOf([{ device: '/tmp/a', wearer: 'PSEM-00002', stimulus: [{ at: '+5m', enterZone: 'Z-X-PSEM-00002' }] }]), 'x.scenario.ts');
    expect(p.plan.devices.map((d) => d.deviceId)).not.toContain('PSEM-00002');
    expect(p.fleet.devices.map((d) => d.deviceId)).not.toContain('PSEM-00002');
    expect(p.fleet.zones.filter((z) => z.zoneId === 'Z-X-PSEM-00002')[0]?.deviceId).toBe('HIL-PSEM-1');
    expect(p.hil[0]).toMatchObject({ deviceId: 'HIL-PSEM-1', tookOver: 'PSEM-00002' });
  });

  it('pairs a BAR perpetrator with a planned victim, in place of the virtual perpetrator', () => {
    const p = provisionRun(scenarioOf([{ device: '/tmp/a', role: 'bar_perpetrator', pairWith: 'BAR-V-00001' }]), 'x.scenario.ts');
    expect(p.fleet.barPairs).toEqual([expect.objectContaining({ pairId: 'BAR-00001', perpetratorId: 'HIL-BAR-P-1', victimId: 'BAR-V-00001' })]);
    expect(p.plan.devices.map((d) => d.deviceId)).toContain('BAR-V-00001');
    expect(p.plan.devices.map((d) => d.deviceId)).not.toContain('BAR-P-00001');
    expect(p.hil[0]).toMatchObject({ pairId: 'BAR-00001', victimId: 'BAR-V-00001' });
  });

  it('sends a BAR perpetrator to where his victim\'s routine has her at the time of approachVictim', () => {
    const p = provisionRun(scenarioOf([{ device: '/tmp/a', role: 'bar_perpetrator', pairWith: 'BAR-V-00001', stimulus: [{ at: '+2m', approachVictim: true, stay: '5m' }] }]), 'x.scenario.ts');
    const h = p.hil[0]!;
    const victim = p.plan.devices.find((d) => d.deviceId === 'BAR-V-00001')!;
    const visit = h.visits[0]!;
    expect(visit).toMatchObject({ from: Date.parse(base.start) + 120_000, stayMs: 300_000 });
    // A place of hers (home, work or an errand), far from his home: the pair's homes lie apart (sim/model/violations.ts).
    const hers = [victim.routine.home, victim.routine.work, ...victim.routine.places].filter((x) => x !== undefined);
    expect(hers).toContainEqual(visit.place);
    expect(h.wearer.routine.home).not.toEqual(visit.place);
  });

  it('plans a new BAR pair whose victim unit is virtual and joins the fleet', () => {
    const p = provisionRun(scenarioOf([{ device: '/tmp/a', role: 'bar_perpetrator', wearer: { city: 'lyon' } }]), 'x.scenario.ts');
    expect(p.fleet.barPairs.find((b) => b.perpetratorId === 'HIL-BAR-P-1')).toMatchObject({ pairId: 'BAR-HIL1', victimId: 'BAR-V-HIL1' });
    expect(p.plan.devices.find((d) => d.deviceId === 'BAR-V-HIL1')).toMatchObject({ type: 'bar_victim', city: 'lyon' });
    expect(p.hil[0]!.wearer.city).toBe('lyon');
  });

  it.each([
    [[{ device: '/tmp/a', wearer: 'PSEM-00042' }], /hil.0.wearer: no planned wearer PSEM-00042 in this fleet \(ids look like PSEM-00001, PSEM-00002\)/],
    [[{ device: '/tmp/a', stimulus: [{ at: '+1m', enterZone: 'Z-X-PSEM-00001' }] }], /hil.0.stimulus.0.enterZone: HIL-PSEM-1 has no zone "Z-X-PSEM-00001" \(its zones: Z-X-HIL-PSEM-1 \(exclusion\), Z-I-HIL-PSEM-1 \(inclusion\)\)/],
  ])('names what is wrong: %j', (hil, message) => {
    const run = (): unknown => provisionRun(scenarioOf(hil), 'x.scenario.ts');
    expect(run).toThrow(VigilError);
    expect(run).toThrow(message);
  });
});
