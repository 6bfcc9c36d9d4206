/**
 * Issue 4, the slow consumer, and issue 8, a broker restart with persistence, on the mosquitto
 * `vigil run --mosquitto` starts (sim/mosquitto.ts): the reference pipeline reads its MQTT session
 * slowly for ten virtual minutes while mosquitto holds at most 100 queued messages for it (DOMAIN.md:
 * mosquitto discards past `max_queued_messages`), then mosquitto is restarted (SIGTERM, persistence
 * written and read back) for two virtual minutes. The broker drops uplinks on the floor;
 * store-and-forward firmware resends what was never acknowledged, so nothing is lost in the end.
 * (The slow pipeline may also count talking devices as silent: those communication_loss alarms are
 * the fault's, optional.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, vigil, writeScenario } from '../support/cli.ts';

describe('slow consumer and broker restart on the run\'s own mosquitto', () => {
  it('the broker drops what overflows its queue and restarts from its persistence; store-and-forward resends; nothing is lost', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'slow', {
      name: 'slow', seed: 6, speed: 120, duration: '60m', fleet: { psem: 40 }, behaviour: { scale: 30 },
      broker: { maxQueuedMessages: 100, persistence: true },
      faults: [
        { name: 'slow', kind: 'slow-consumer', from: '+20m', until: '+30m' },
        { name: 'upgrade', kind: 'broker-restart', from: '+40m', until: '+42m' },
      ],
    });
    const r = await vigil(['run', file, '--mosquitto', '--out', dir], { timeoutMs: 150_000 });
    const run = r.run!;
    expect(run, r.stdout + r.stderr).toBeDefined();
    expect(r.code, r.stdout).toBe(0);
    expect(run.verdict).toBe('PASS');
    expect(run.broker.kind).toBe('managed-mosquitto');
    expect(run.ledger).toMatchObject({ dropped: 0, spurious: 0, duplicates: 0 });
    expect(run.completeness.recordsMissing).toBe(0);
    expect(run.faults.map((f) => [f.name, f.kind])).toEqual([['slow', 'slow-consumer'], ['upgrade', 'broker-restart']]);
    // The test can fail: the broker really dropped uplinks for the slow pipeline (its log is in the
    // run directory), and devices resent them.
    const log = readFileSync(join(r.runDir!, 'mosquitto', 'mosquitto.log'), 'utf8');
    expect(log).toMatch(/Outgoing messages are being dropped for client/);
    expect(run.fleet.resent ?? 0, r.stdout).toBeGreaterThan(0);
    // The restart went through mosquitto's persistence file, and every device came back.
    expect(existsSync(join(r.runDir!, 'mosquitto', 'mosquitto.db'))).toBe(true);
    expect(run.faults[1]!.notDrained, JSON.stringify(run.faults[1])).toEqual([]);
    expect(run.faults[1]!.drainMs).not.toBeNull();
    const journal = readFileSync(join(r.runDir!, 'journal.jsonl'), 'utf8');
    expect(journal).toMatch(/"event":"start","at":\d+,"fault":"slow","kind":"slow-consumer"/);
    expect(journal).toMatch(/"event":"heal","at":\d+,"fault":"upgrade","kind":"broker-restart"/);
    // Nothing of it is left running.
    expect(existsSync(join(r.runDir!, 'active-faults.json'))).toBe(false);
  }, 180_000);
});
