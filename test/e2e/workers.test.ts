/**
 * Issue 7, "done when": `--workers 2` gives the same ledger as `--workers 1` for the same seed.
 * The same scenario runs twice side by side, once with the fleet in Vigil's process and once split
 * over two worker processes; both must pass clean and expect, alarm by alarm, the same alarms.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanPass, expectedKeys, tempDir, vigil, writeScenario } from '../support/cli.ts';

// Every device type, 30 virtual minutes at speed 120, behaviour scaled up for alarms of several kinds.
const scenario = {
  name: 'sharded', seed: 7, speed: 120, start: '2021-10-25T14:00:00+02:00', duration: '30m',
  fleet: { psem: 20, pse: 10, bar: 2 }, behaviour: { scale: 40 }, drain: '5m',
};

describe('--workers', () => {
  const dir = tempDir();
  const file = writeScenario(dir, 'sharded', scenario);

  it('splits the fleet over two processes and gets the same ledger as one process', async () => {
    const [one, two] = await Promise.all([
      vigil(['run', file, '--out', join(dir, 'one')]),
      vigil(['run', file, '--workers', '2', '--out', join(dir, 'two')]),
    ]);
    const a = expectCleanPass(one);
    const b = expectCleanPass(two);
    expect(b.command).toContain('--workers 2');
    expect(a.ledger.expected).toBeGreaterThan(10);
    expect(new Set(Object.keys(a.perKind)).size).toBeGreaterThanOrEqual(3);
    expect(b.ledger).toEqual(a.ledger);
    expect(b.perKind).toEqual(a.perKind);
    expect(b.fleet.records).toBe(a.fleet.records);
    // Records per minute come back from the shards too: in a clean run every record made was sent
    // once and acknowledged as stored (the drain waits for the last ack).
    const sum = (xs: readonly number[] | undefined): number => (xs ?? []).reduce((n, x) => n + x, 0);
    for (const r of [a, b]) expect([sum(r.records?.sent), sum(r.records?.stored)]).toEqual([r.fleet.records, r.fleet.records]);
    // And the fleet's own lag per minute, from each shard (the worst of them), judged in run.json `harness`.
    for (const r of [a, b]) {
      const lag = r.records?.lagMs ?? [];
      expect(lag).toHaveLength(r.records?.sent.length ?? -1);
      expect(lag.some((ms) => ms > 0)).toBe(true);
      expect(r.harness?.lagMaxMs).toBe(Math.max(...lag));
      expect(r.harness?.lagMaxMs).toBeLessThanOrEqual(r.fleet.wakeLagMaxMs ?? -1);
      expect(r.harness).toMatchObject({ failures: 0, failuresWhileBehind: 0 });
    }
    expect(expectedKeys(two.runDir as string)).toEqual(expectedKeys(one.runDir as string));
  });

  it('refuses a fault that needs the devices in its own process, before anything starts', async () => {
    const skewed = writeScenario(dir, 'skewed', { ...scenario, name: 'skewed', faults: [{ kind: 'clock-skew', from: '+5m', until: '+10m', target: { fraction: 0.5 }, offset: '+2m' }] });
    const r = await vigil(['run', skewed, '--workers', '2', '--out', join(dir, 'skewed')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/clock-skew needs every device in Vigil's own process.*--workers 1/s);
    expect(r.run).toBeUndefined();
  });
});
