/**
 * Issue 4, the headline case at test size: the 2021 outage's shape — half of one operator's fleet
 * behind an ack-then-lose gateway, healed, devices back progressively — with store-and-forward
 * firmware (PASS: nothing dropped, the outage's alarms late within the allowance, every silenced
 * device's communication_loss and one mass alarm on time, the recovery, the drain measured) and
 * with broker-ack firmware (FAIL: the alarms made during the outage are dropped, each named).
 * The full replay is scenarios/fr-2021-10-25.scenario.ts (README's first command).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanPass, tempDir, vigil, writeScenario } from '../support/cli.ts';

const outage = {
  seed: 2021, speed: 240, start: '2021-10-25T14:00:00+02:00', duration: '4h',
  fleet: { pse: 40, psem: 30, bar: 5 },
  // Enough alarms inside a one-hour outage to see them late, at test size.
  behaviour: { scale: 10 },
  network: { operators: [{ id: 'fr-operator', share: 1 }] },
  faults: [{
    name: 'network-update', kind: 'ack-then-lose', from: '2021-10-25T14:40:00+02:00', until: '2021-10-25T15:40:00+02:00',
    target: { operator: 'fr-operator', fraction: 0.5 }, recovery: '40m',
  }],
};

// The two runs are independent (each its own broker, pipeline and directory): side by side, for npm
// test's time budget — they wait on virtual time far more than they use the CPU.
describe.concurrent('the 2021 outage, at test size', () => {
  const dir = tempDir();
  const file = writeScenario(dir, 'outage', { name: 'outage', ...outage });

  it('store-and-forward: PASS, nothing dropped, the outage detected and drained', async () => {
    const out = join(dir, 'saf');
    const r = await vigil(['run', file, '--out', out]);
    const run = expectCleanPass(r);

    const [f] = run.faults;
    expect(f).toMatchObject({ name: 'network-update', kind: 'ack-then-lose', devices: 40 });
    // Every device behind the gateway was silent for about an hour: each owes its communication_loss, on time.
    expect(f!.absence.required).toBeGreaterThanOrEqual(40);
    expect(f!.absence).toMatchObject({ missing: 0, late: 0 });
    expect(f!.absence.onTime).toBe(f!.absence.required);
    // The alarms made during the outage reached the feed late, within the allowance, each named with its delay.
    expect(run.ledger.lateAllowed, r.stdout).toBeGreaterThan(0);
    expect(run.lateAllowed.every((e) => e.faults?.includes('network-update') && (e.latencyMs ?? 0) > 240_000)).toBe(true);
    // One mass alarm, within its SLA, and its recovery; the time to detect and to drain are reported.
    expect(run.absence.mass).toHaveLength(1);
    expect(run.absence.mass[0]).toMatchObject({ operator: 'fr-operator', status: 'on_time', recovery: 'on_time' });
    expect(f!.timeToDetectMs).toBeGreaterThan(0);
    expect(f!.timeToDetectMs).toBeLessThan(10 * 60_000 + 240_000 + 120_000);
    expect(f!.drainMs).not.toBeNull();
    expect(f!.notDrained).toEqual([]);

    // junit: one testcase per fault window and per absence check; the journal has the fault's start and heals.
    const junit = readFileSync(join(r.runDir!, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="vigil.outage" name="fault network-update \(ack-then-lose\)">/);
    expect(junit).toMatch(/name="absence: communication_loss of every silenced device"/);
    expect(junit).toMatch(/name="absence: mass_communication_loss fr-operator #1"/);
    const journal = readFileSync(join(r.runDir!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; event?: string; devices?: unknown });
    const faultLines = journal.filter((j) => j.t === 'fault');
    expect(faultLines[0]).toMatchObject({ event: 'start', devices: 40 });
    const healed = faultLines.filter((j) => j.event === 'heal').flatMap((j) => j.devices as string[]);
    expect(new Set(healed).size).toBe(40);
    expect(r.stdout).toMatch(/fault network-update \(ack-then-lose\)/);
  });

  it('broker-ack: FAIL, every alarm lost behind the gateway named', async () => {
    const out = join(dir, 'ba');
    const r = await vigil(['run', file, '--firmware', 'broker-ack', '--out', out]);
    const run = r.run!;
    expect(run, r.stdout + r.stderr).toBeDefined();
    expect(r.code, r.stdout).toBe(1);
    expect(run.verdict).toBe('FAIL');
    expect(run.command).toMatch(/--firmware broker-ack/);
    const dropped = run.failures.filter((x) => x.status === 'dropped');
    expect(dropped.length, r.stdout).toBeGreaterThan(0);
    expect(run.ledger.dropped).toBe(dropped.length);
    for (const d of dropped) expect(d.detail).toMatch(/never reached the operator feed/);
    // The records the gateway acknowledged and threw away are missing from the position history.
    expect(run.completeness.recordsMissing).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/FAILED no dropped alarms/);
  });
});
