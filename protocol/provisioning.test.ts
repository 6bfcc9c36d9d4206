import { describe, expect, it } from 'vitest';
import { provisioningProblems } from './provisioning.ts';

const base = { runId: 'r', clock: { startVirtual: 0, startReal: 0, speed: 60 }, offlineTimeoutMs: 600_000 };
const ring = [[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]];

describe('provisioning validation', () => {
  it('accepts a mixed fleet', () => {
    expect(provisioningProblems({
      ...base,
      devices: [{ deviceId: 'PSE-1', type: 'pse', home: { lat: 48.8, lon: 2.3 } }, { deviceId: 'PSEM-1', type: 'psem' }, { deviceId: 'P', type: 'bar_perpetrator' }, { deviceId: 'V', type: 'bar_victim' }],
      zones: [{ zoneId: 'Z', kind: 'inclusion', deviceId: 'PSEM-1', polygon: ring, windows: [{ from: '21:00', to: '06:00', crossesMidnight: true }] }],
      curfews: [{ deviceId: 'PSE-1', windows: [{ from: '20:00', to: '07:00', crossesMidnight: true }] }],
      barPairs: [{ pairId: 'B', perpetratorId: 'P', victimId: 'V', alertKm: 10 }],
    })).toEqual([]);
  });

  it.each([
    ['a PSE wearer with no home', { devices: [{ deviceId: 'PSE-1', type: 'pse' }] }, 'devices.0.home: a PSE wearer needs a home'],
    ['a BAR radius of 11 km', { devices: [{ deviceId: 'P', type: 'bar_perpetrator' }, { deviceId: 'V', type: 'bar_victim' }], barPairs: [{ pairId: 'B', perpetratorId: 'P', victimId: 'V', alertKm: 11 }] }, 'barPairs.0.alertKm: the alert distance is a whole number of km from 1 to 10'],
    ['a BAR radius of 2.5 km', { devices: [{ deviceId: 'P', type: 'bar_perpetrator' }, { deviceId: 'V', type: 'bar_victim' }], barPairs: [{ pairId: 'B', perpetratorId: 'P', victimId: 'V', alertKm: 2.5 }] }, 'barPairs.0.alertKm'],
    ['a curfew ending before it starts', { devices: [{ deviceId: 'PSE-1', type: 'pse', home: { lat: 1, lon: 1 } }], curfews: [{ deviceId: 'PSE-1', windows: [{ from: '20:00', to: '07:00' }] }] }, 'curfews.0.windows.0.to: ends (07:00) before it starts (20:00) without crossing midnight'],
    ['an empty zone polygon', { devices: [{ deviceId: 'M', type: 'psem' }], zones: [{ zoneId: 'Z', kind: 'exclusion', deviceId: 'M', polygon: [] }] }, 'zones.0.polygon: a zone needs a closed ring'],
    ['a zone twice on one device', { devices: [{ deviceId: 'M', type: 'psem' }], zones: [{ zoneId: 'Z', kind: 'exclusion', deviceId: 'M', polygon: ring }, { zoneId: 'Z', kind: 'exclusion', deviceId: 'M', polygon: ring }] }, 'zones.1.zoneId: zone "Z" is provisioned twice'],
    ['a curfew on a GPS bracelet', { devices: [{ deviceId: 'M', type: 'psem' }], curfews: [{ deviceId: 'M', windows: [{ from: '20:00', to: '23:00' }] }] }, 'curfews.0.deviceId: "M" is a psem device; expected pse'],
  ])('rejects %s, naming the field', (_name, body, message) => {
    const problems = provisioningProblems({ ...base, ...body });
    expect(problems.join('\n')).toContain(message);
  });
});
