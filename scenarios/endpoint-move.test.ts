/** The endpoint-move fault kind: its validation, and the seeded DNS moments planFaults gives each device. */
import { describe, expect, it } from 'vitest';
import { planFaults, type FleetDevice } from './faults.ts';
import { validateScenario } from './schema.ts';

const base = { name: 'x', duration: '2h', fleet: { psem: 10 } };

describe('endpoint-move', () => {
  it('defaults dnsTtl to 5 minutes', () => {
    const r = validateScenario({ ...base, faults: [{ kind: 'endpoint-move', from: '+30m', until: '+60m' }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario.faults[0]).toMatchObject({ kind: 'endpoint-move', name: 'endpoint-move-1', dnsTtl: 300_000, from: r.scenario.start + 1_800_000 });
  });

  it.each([
    [{ dnsTtl: '15 mins' }, 'faults.0.dnsTtl', /duration like "2h"/],
    [{ dnsTtl: 900 }, 'faults.0.dnsTtl', /string/],
    [{ dnsTtl: '0s' }, 'faults.0.dnsTtl', /duration/],
    [{ ttl: '5m' }, 'faults.0', /ttl/],
    [{ until: '+3h' }, 'faults.0.until', /after the end of the run/],
  ])('rejects %j at %s', (extra, path, message) => {
    const r = validateScenario({ ...base, faults: [{ kind: 'endpoint-move', from: '+30m', until: '+60m', ...extra }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.path).toBe(path);
    expect(r.problems[0]!.message).toMatch(message);
  });

  it('gives each targeted device a seeded DNS moment in [from, from + dnsTtl]; other kinds get none', () => {
    const fleet: FleetDevice[] = Array.from({ length: 200 }, (_, i) => ({ deviceId: `PSEM-${i}`, type: 'psem' as const, operator: 'a' }));
    const r = validateScenario({ ...base, faults: [
      { name: 'move', kind: 'endpoint-move', from: '+30m', until: '+60m', dnsTtl: '15m', target: { fraction: 0.5 } },
      { name: 'bh', kind: 'black-hole', from: '+30m', until: '+60m' },
    ] });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const from = r.scenario.start + 1_800_000;
    const [move, bh] = planFaults(r.scenario.faults, fleet, 4, r.scenario.start + r.scenario.duration, 'x');
    expect(move!.devices).toHaveLength(100);
    const at = [...move!.dnsAt!];
    expect(at.map(([id]) => id)).toEqual(move!.devices);
    for (const [, t] of at) {
      expect(t).toBeGreaterThanOrEqual(from);
      expect(t).toBeLessThanOrEqual(from + 900_000);
    }
    expect(new Set(at.map(([, t]) => t)).size).toBeGreaterThan(90);
    expect([...planFaults(r.scenario.faults, fleet, 4, r.scenario.start + r.scenario.duration, 'x')[0]!.dnsAt!]).toEqual(at);
    expect(bh!.dnsAt).toBeUndefined();
  });
});
