/** Bad input exits 2 with one line saying what was wrong and how to fix it (issue 2). */
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/mosquitto.ts';
import { REPO, tempDir, vigil, writeScenario } from '../support/cli.ts';

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, `stderr was:\n${stderr}`).toHaveLength(1);
  return lines[0] as string;
}

describe('bad input', () => {
  it('a missing scenario file', async () => {
    const r = await vigil(['run', 'scenarios/nope.scenario.ts', '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/scenario file not found: scenarios\/nope\.scenario\.ts — check the path/);
  });

  it('a scenario with an invalid field names the field, the value and the fix', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'bad', { name: 'bad', duration: '5 mins', fleet: { psem: 10 } });
    const r = await vigil(['run', file, '--out', dir]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/bad\.scenario\.ts: duration: expected a duration like "2h".*got "5 mins" — fix duration in/);
  });

  it('a flag with an invalid value', async () => {
    const r = await vigil(['run', 'scenarios/smoke.scenario.ts', '--devices', '2.5', '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/--devices must be a whole number > 0, got "2.5"/);
  });

  // No timed assertion (a start under CI's load took 6.6 s once): the message is the probe's, which
  // makes one attempt and names its error; the test's timeout catches a run that would hang.
  it('an unreachable broker: refused at the probe, before the run starts', async () => {
    const port = await freePort();
    const r = await vigil(['run', 'scenarios/smoke.scenario.ts', '--broker', `mqtt://127.0.0.1:${port}`, '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`cannot reach the MQTT broker at mqtt://127.0.0.1:${port}: .*ECONNREFUSED.* — start the broker, or fix --broker`));
    expect(r.stdout).not.toMatch(/^run /m);
  });

  it('--dashboard on a port in use, or not a port: exit 2 before anything starts, naming the port and the fix', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const out = tempDir();
    try {
      const [inUse, notAPort] = await Promise.all([
        vigil(['run', 'scenarios/smoke.scenario.ts', '--dashboard', String(port), '--out', out]),
        vigil(['run', 'scenarios/smoke.scenario.ts', '--dashboard', '70000', '--out', out]),
      ]);
      expect(inUse.code).toBe(2);
      expect(oneLine(inUse.stderr)).toBe(`vigil: --dashboard: port ${port} on 127.0.0.1 is in use (another dashboard or program listens there) — pass another port (--dashboard ${port + 1}), or --dashboard 0 for any free one [VIGIL_DASHBOARD_PORT]`);
      expect(notAPort.code).toBe(2);
      expect(oneLine(notAPort.stderr)).toMatch(/--dashboard must be a port from 1 to 65535, or 0 for any free one, got "70000"/);
      // Refused before the run began: no run directory, no broker, no device.
      expect(readdirSync(out)).toEqual(['package.json']);
      expect(inUse.stdout).not.toMatch(/^run /m);
    } finally {
      taken.close();
    }
  });

  it('a broker that is not on the safety allow-list: stopped at once, before any connection (issue 8 item 4)', async () => {
    // One process for both halves of the interlock: the project's vigil.config.ts is read (its
    // entry shows in the fix), and a host it does not list is refused. A run that tried to reach
    // 10.255.255.1 would probe it first and fail otherwise (VIGIL_BROKER_UNREACHABLE, after up to
    // 5 s): this message comes only from the interlock, which runs before anything connects
    // (cli/run-interlock.test.ts spies on every connect).
    const dir = tempDir();
    writeFileSync(join(dir, 'vigil.config.ts'), "const allow: string[] = ['staging-broker.example'];\nexport default { targets: { allow } };\n");
    const r = await vigil(['run', join(REPO, 'scenarios/smoke.scenario.ts'), '--broker', 'mqtt://10.255.255.1:1883', '--out', dir], { cwd: dir });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^vigil: safety interlock: the MQTT broker 10\.255\.255\.1 \(--broker mqtt:\/\/10\.255\.255\.1:1883\) is not on the allow-list; .* and connected to nothing — if it is a test system you may load, add it to .*vigil\.config\.ts: targets: \{ allow: \['staging-broker\.example', '10\.255\.255\.1'\] \} \[VIGIL_TARGET_NOT_ALLOWED\]$/);
    // Only the interlock says this; a run that probed the host would have said VIGIL_BROKER_UNREACHABLE.
    expect(r.stderr).not.toMatch(/VIGIL_BROKER_UNREACHABLE|cannot reach/);
  });

  it('an unreachable pipeline', async () => {
    const port = await freePort();
    const r = await vigil(['run', 'scenarios/smoke.scenario.ts', '--pipeline', `http://127.0.0.1:${port}`, '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/cannot reach the pipeline at http:\/\/127.0.0.1:\d+: ECONNREFUSED — start it/);
  });
});

describe('bad provisioning in a scenario is rejected before the run starts', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a BAR radius of 11 km', { fleet: { bar: 1 }, provisioning: { barPairs: [{ pairId: 'BAR-00001', alertKm: 11 }] } },
      /provisioning.barPairs(\[BAR-00001\]|\.0)\.alertKm: the alert distance is a whole number of km from 1 to 10 \(the pre-alert distance is twice it\)[;,] got 11/],
    ['a BAR radius of 2.5 km', { fleet: { bar: 1 }, provisioning: { barPairs: [{ pairId: 'BAR-00001', alertKm: 2.5 }] } },
      /barPairs(\[BAR-00001\]|\.0)\.alertKm: the alert distance is a whole number of km from 1 to 10.*got 2\.5/],
    ['a curfew that ends before it starts without crossing midnight', { fleet: { pse: 1 }, provisioning: { curfews: [{ deviceId: 'PSE-00001', windows: [{ from: '20:00', to: '07:00' }] }] } },
      /curfews(\[PSE-00001\]|\.0)\.windows\.0\.to: ends \(07:00\) before it starts \(20:00\) without crossing midnight: set crossesMidnight: true/],
    ['an empty zone polygon', { fleet: { psem: 1 }, provisioning: { zones: [{ zoneId: 'Z-X-PSEM-00001', polygon: [] }] } },
      /zones(\[Z-X-PSEM-00001\]|\.0)\.polygon: a zone needs a closed ring of at least 3 distinct corners.*got 0 points/],
    ['a wearer with no home', { fleet: { pse: 1 }, provisioning: { devices: [{ deviceId: 'PSE-00001', home: null }] } },
      /devices\[PSE-00001\]\.home: a PSE wearer needs a home/],
  ];
  it.each(cases)('%s', async (_name, body, message) => {
    const dir = tempDir();
    const file = writeScenario(dir, 'bad-prov', { name: 'bad-prov', duration: '1h', ...body });
    const r = await vigil(['run', file, '--out', dir]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(message);
    expect(oneLine(r.stderr)).toMatch(/VIGIL_(SCENARIO|PROVISIONING)_INVALID/);
  });
});

describe('bad faults in a scenario are rejected before anything starts (issue 4)', () => {
  const window = { from: '+1h', until: '+2h' };
  const cases: [string, Record<string, unknown>[], RegExp][] = [
    ['an unknown fault kind', [{ kind: 'blackhole', ...window }],
      /faults\.0\.kind: unknown fault kind: expected one of black-hole, ack-then-lose, .*, mtu, endpoint-move, clock-skew, pipeline-restart, broker-restart, alarm-id-overflow, slow-consumer, .*got "blackhole"/],
    ['a window that starts outside the run', [{ kind: 'black-hole', from: '2021-10-26T10:00:00+02:00', until: '2021-10-26T11:00:00+02:00' }],
      /faults\.0\.from: is 2021-10-26T08:00:00\.000Z, outside the run \(2021-10-25T12:00:00\.000Z → 2021-10-25T15:00:00\.000Z\): move it inside/],
    ['a window that ends after the run', [{ kind: 'black-hole', from: '+1h', until: '+5h' }],
      /faults\.0\.until: is 2021-10-25T17:00:00\.000Z, after the end of the run/],
    ['a target that matches no device', [{ kind: 'black-hole', ...window, target: { deviceType: 'bar' } }],
      /faults\.0\.target: \{"deviceType":"bar"\} matches no device of this fleet — widen the target/],
    ['a target naming devices not in the fleet', [{ kind: 'mtu', maxBytes: 500, ...window, target: { devices: ['PSEM-00001', 'PSEM-09999'] } }],
      /faults\.0\.target\.devices: PSEM-09999 is not in the fleet/],
    ['a fault missing its parameter', [{ kind: 'latency', ...window }],
      /faults\.0\.delay: .*expected string, received undefined/],
    ['an endpoint move with a bad DNS TTL', [{ kind: 'endpoint-move', ...window, dnsTtl: '15 mins' }],
      /faults\.0\.dnsTtl: expected a duration like "2h"/],
  ];
  it.each(cases)('%s', async (_name, faults, message) => {
    const dir = tempDir();
    const file = writeScenario(dir, 'bad-fault', { name: 'bad-fault', duration: '3h', fleet: { psem: 4 }, faults });
    const r = await vigil(['run', file, '--out', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(oneLine(r.stderr)).toMatch(message);
    expect(r.stdout).not.toMatch(/^run /m); // stopped before the fleet or any broker started
  });

  it('an unknown --firmware', async () => {
    const r = await vigil(['run', 'scenarios/fr-2021-10-25.scenario.ts', '--firmware', 'yolo', '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/--firmware must be one of store-and-forward, broker-ack, fire-and-forget, got "yolo"/);
  });
});
