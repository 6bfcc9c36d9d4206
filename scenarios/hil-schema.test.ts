import { describe, expect, it } from 'vitest';
import { validateScenario } from './schema.ts';

const base = { name: 'x', duration: '30m', fleet: { psem: 3, bar: 1 }, start: '2021-10-25T14:00:00+02:00' };
const start = Date.parse(base.start);

describe('the hil section', () => {
  it('fills the defaults and resolves stimulus times', () => {
    const r = validateScenario({ ...base, hil: [{ device: 'serial=E1', stimulus: [{ at: '+5m', enterZone: 'Z-X-HIL-PSEM-1' }, { at: '+12m', tamper: true }] }] });
    expect(r.ok && r.scenario.hil).toEqual([{
      device: { serialNumber: 'E1' }, role: 'psem', mode: 'gateway',
      stimulus: [{ at: start + 300_000, action: 'enterZone', zoneId: 'Z-X-HIL-PSEM-1', stayMs: 600_000 }, { at: start + 720_000, action: 'tamper' }],
    }]);
  });

  it.each([
    [{ device: 'ttyUSB0' }, 'hil.0.device', /is not key=value/],
    [{ device: '/tmp/a', role: 'pse' }, 'hil.0.role', /psem|bar_perpetrator/],
    [{ device: '/tmp/a', mode: 'wifi' }, 'hil.0.mode', /gateway|direct/],
    [{ device: '/tmp/a', stimulus: [{ at: '+1m' }] }, 'hil.0.stimulus.0', /exactly one action of tamper, battery, charger, enterZone, approachVictim/],
    [{ device: '/tmp/a', stimulus: [{ at: '+1m', tamper: true, battery: 3 }] }, 'hil.0.stimulus.0', /got tamper and battery/],
    [{ device: '/tmp/a', stimulus: [{ at: '+1m', battery: 130 }] }, 'hil.0.stimulus.0.battery', /100/],
    [{ device: '/tmp/a', stimulus: [{ at: '10 min', tamper: true }] }, 'hil.0.stimulus.0.at', /\+2h10m/],
    [{ device: '/tmp/a', stimulus: [{ at: '+2h', tamper: true }] }, 'hil.0.stimulus.0.at', /outside the run/],
    [{ device: '/tmp/a', stimulus: [{ at: '+1m', tamper: true, stay: '5m' }] }, 'hil.0.stimulus.0.stay', /enterZone or approachVictim only/],
    [{ device: '/tmp/a', stimulus: [{ at: '+1m', approachVictim: true }] }, 'hil.0.stimulus.0.approachVictim', /bar_perpetrator" only/],
    [{ device: '/tmp/a', pairWith: 'BAR-V-00001' }, 'hil.0.pairWith', /role: "bar_perpetrator" only/],
    [{ device: '/tmp/a', wearer: 'BAR-P-00001' }, 'hil.0.wearer', /PSEM-00003/],
    [{ device: '/tmp/a', wearer: { city: 'atlantis' } }, 'hil.0.wearer', /planned wearer's id|city/],
    [{ device: '/tmp/a', port: 3 }, 'hil.0', /port/],
  ])('rejects %j at %s', (entry, path, message) => {
    const r = validateScenario({ ...base, hil: [entry] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.path).toBe(path);
    expect(r.problems[0]!.message).toMatch(message);
  });

  it('rejects one device named twice', () => {
    const r = validateScenario({ ...base, hil: [{ device: 'serial=A' }, { device: 'serial=A', role: 'bar_perpetrator' }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatchObject({ path: 'hil.1.device', message: /same device as hil.0.device/ });
  });
});
