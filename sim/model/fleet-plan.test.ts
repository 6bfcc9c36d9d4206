import { describe, expect, it } from 'vitest';
import { Provisioning } from '../../protocol/provisioning.ts';
import { DEFAULT_BEHAVIOUR, scaleBehaviour } from './behaviour.ts';
import { planFleet, type PlannedBarPerpetrator } from './fleet-plan.ts';
import { DEFAULT_FLEET_MIX, scaleMix } from './fleet-mix.ts';
import { CITIES } from './geo.ts';
import { plan, recordsOf } from './test-support.ts';

const start = Date.parse('2021-10-25T14:00:00+02:00');

describe('fleet plan', () => {
  it('provisions exactly what protocol/provisioning.ts accepts', () => {
    const p = plan(1, { pse: 5, psem: 4, bar: 3 }, DEFAULT_BEHAVIOUR, start);
    const parsed = Provisioning.parse({
      runId: 'r1', clock: { startVirtual: start, startReal: 0, speed: 60 }, offlineTimeoutMs: 600_000, ...p.provisioning,
    });
    expect(parsed.devices.map((d) => d.deviceId)).toEqual([
      'PSE-00001', 'PSE-00002', 'PSE-00003', 'PSE-00004', 'PSE-00005', 'PSEM-00001', 'PSEM-00002', 'PSEM-00003', 'PSEM-00004',
      'BAR-P-00001', 'BAR-V-00001', 'BAR-P-00002', 'BAR-V-00002', 'BAR-P-00003', 'BAR-V-00003',
    ]);
    expect(parsed.curfews).toHaveLength(5);
    expect(parsed.zones.map((z) => z.kind)).toEqual(Array.from({ length: 4 }, () => ['exclusion', 'inclusion']).flat());
    expect(parsed.zones.filter((z) => z.kind === 'inclusion').every((z) => z.windows?.[0]?.crossesMidnight)).toBe(true);
    expect(parsed.barPairs[0]).toMatchObject({ pairId: 'BAR-00001', perpetratorId: 'BAR-P-00001', victimId: 'BAR-V-00001' });
    expect(p.devices.map((d) => d.deviceId)).toEqual(parsed.devices.map((d) => d.deviceId));
    expect(p.devices.every((d) => d.wearer.fullName.length > 3)).toBe(true);
  });

  it('draws alert distances as whole km 1–10, mostly 1–5, and curfews mostly 20:00 → 07:00', () => {
    const p = plan(2, { pse: 400, bar: 400 }, DEFAULT_BEHAVIOUR, start);
    const km = p.provisioning.barPairs.map((b) => b.alertKm);
    expect(km.every((k) => Number.isInteger(k) && k >= 1 && k <= 10)).toBe(true);
    expect(km.filter((k) => k <= 5).length / km.length).toBeGreaterThan(0.7);
    expect(new Set(km).size).toBeGreaterThan(6);
    const curfews = p.provisioning.curfews.map((c) => `${c.windows[0]!.from}-${c.windows[0]!.to}/${c.windows[0]!.days!.length}`);
    expect(curfews.filter((c) => c === '20:00-07:00/7').length / curfews.length).toBeGreaterThan(0.6);
    expect(new Set(curfews)).toEqual(new Set(['20:00-07:00/7', '21:00-06:00/7', '20:00-07:00/5']));
  });

  it('is a function of the seed: same plan, byte-identical records; another seed differs', () => {
    const a = plan(3, { pse: 2, psem: 2, bar: 1 }, scaleBehaviour(DEFAULT_BEHAVIOUR, 10), start);
    const b = plan(3, { pse: 2, psem: 2, bar: 1 }, scaleBehaviour(DEFAULT_BEHAVIOUR, 10), start);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    for (const d of a.devices) {
      const made = recordsOf(d, 3, start, 12);
      expect(made.every((r) => Number.isInteger(r.time) && Number.isInteger(r.battery))).toBe(true);
      const first = JSON.stringify(made);
      expect(first.length).toBeGreaterThan(1000);
      expect(JSON.stringify(recordsOf(d, 3, start, 12))).toBe(first);
    }
    expect(JSON.stringify(plan(4, { pse: 2, psem: 2, bar: 1 }, DEFAULT_BEHAVIOUR, start).provisioning)).not.toBe(JSON.stringify(a.provisioning));
  });

  it('gives a device the same wearer and records whatever the rest of the fleet', () => {
    const small = plan(5, { psem: 1, bar: 1 }, DEFAULT_BEHAVIOUR, start);
    const large = plan(5, { pse: 20, psem: 3, bar: 2 }, DEFAULT_BEHAVIOUR, start);
    for (const id of ['PSEM-00001', 'BAR-P-00001', 'BAR-V-00001']) {
      const s = small.devices.find((d) => d.deviceId === id)!;
      const l = large.devices.find((d) => d.deviceId === id)!;
      expect(l).toEqual(s);
      expect(recordsOf(l, 5, start, 6)).toEqual(recordsOf(s, 5, start, 6));
    }
  });

  it('plans only the devices asked for, each exactly as in the whole plan (a BAR pair whole)', () => {
    const input = { seed: 7, mix: { pse: 4, psem: 3, bar: 2 }, cities: ['paris', 'lyon'] as const, behaviour: DEFAULT_BEHAVIOUR, start };
    const whole = planFleet({ ...input, cities: [...input.cities] });
    const ids = new Set(['PSE-00003', 'PSEM-00002', 'BAR-V-00002']);
    const part = planFleet({ ...input, cities: [...input.cities], only: (id) => ids.has(id) });
    expect(part.devices.map((d) => d.deviceId)).toEqual(['PSE-00003', 'PSEM-00002', 'BAR-P-00002', 'BAR-V-00002']);
    for (const d of part.devices) expect(d).toEqual(whole.devices.find((w) => w.deviceId === d.deviceId));
  });

  it('puts the perpetrator far from the victim, and homes near the scenario\'s cities', () => {
    const p = planFleet({ seed: 6, mix: { pse: 3, psem: 3, bar: 3 }, cities: ['nice', 'rennes'], behaviour: DEFAULT_BEHAVIOUR, start });
    expect(new Set(p.devices.map((d) => d.city))).toEqual(new Set(['nice', 'rennes']));
    for (const d of p.devices.filter((x): x is PlannedBarPerpetrator => x.type === 'bar_perpetrator')) {
      expect(d.pair.separationKm).toBeGreaterThan(2 * d.pair.alertKm + 2 * d.pair.reachKm);
    }
    expect(Object.keys(CITIES).length).toBeGreaterThanOrEqual(20);
  });
});

describe('fleet mix', () => {
  it('defaults to DOMAIN.md\'s 15,000 wearers, mostly PSE, ~350 BAR pairs: 15,350 devices', () => {
    const { pse, psem, bar } = DEFAULT_FLEET_MIX;
    expect(pse + psem + bar).toBe(15_000);
    expect(pse + psem + 2 * bar).toBe(15_350);
    expect(bar).toBe(350);
    expect(pse).toBeGreaterThan(psem);
  });

  it('scales proportionally, keeping at least one of each type the mix has', () => {
    expect(scaleMix(DEFAULT_FLEET_MIX, 15_000)).toEqual(DEFAULT_FLEET_MIX);
    expect(scaleMix(DEFAULT_FLEET_MIX, 100)).toEqual({ pse: 88, psem: 10, bar: 2 });
    expect(scaleMix(DEFAULT_FLEET_MIX, 10)).toEqual({ pse: 8, psem: 1, bar: 1 });
    expect(scaleMix(DEFAULT_FLEET_MIX, 3)).toEqual({ pse: 1, psem: 1, bar: 1 });
    expect(scaleMix(DEFAULT_FLEET_MIX, 1)).toEqual({ pse: 1, psem: 1, bar: 1 }); // fewer wearers than types
    expect(scaleMix({ pse: 0, psem: 5, bar: 1 }, 3)).toEqual({ pse: 0, psem: 2, bar: 1 });
    expect(scaleMix({ pse: 0, psem: 5, bar: 0 }, 12)).toEqual({ pse: 0, psem: 12, bar: 0 });
    expect(scaleMix({ pse: 1, psem: 1, bar: 1 }, 1000)).toEqual({ pse: 334, psem: 333, bar: 333 });
    expect(scaleMix({ pse: 0, psem: 0, bar: 0 }, 10)).toEqual({ pse: 0, psem: 0, bar: 0 });
  });
});
