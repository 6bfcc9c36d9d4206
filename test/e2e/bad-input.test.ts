/** Bad input exits 2 with one line saying what was wrong and how to fix it (issue 2). */
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/mosquitto.ts';
import { tempDir, vigil, writeScenario } from '../support/cli.ts';

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

  it('an unreachable broker, within 10 s', async () => {
    const port = await freePort();
    const r = await vigil(['run', 'scenarios/smoke.scenario.ts', '--broker', `mqtt://127.0.0.1:${port}`, '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`cannot reach the MQTT broker at mqtt://127.0.0.1:${port}: .*ECONNREFUSED.* — start the broker, or fix --broker`));
    expect(r.ms).toBeLessThan(10_000);
  });

  it('an unreachable pipeline', async () => {
    const port = await freePort();
    const r = await vigil(['run', 'scenarios/smoke.scenario.ts', '--pipeline', `http://127.0.0.1:${port}`, '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/cannot reach the pipeline at http:\/\/127.0.0.1:\d+: ECONNREFUSED — start it/);
  });
});
