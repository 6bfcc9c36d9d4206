/**
 * Issue 4, the slow consumer: the reference pipeline reads its MQTT session slowly for ten virtual
 * minutes while mosquitto holds at most 100 queued messages for it (DOMAIN.md: mosquitto discards
 * past `max_queued_messages`). The broker drops uplinks on the floor; store-and-forward firmware
 * resends what was never acknowledged, so nothing is lost in the end. (The slow pipeline may also
 * count talking devices as silent: those communication_loss alarms are the fault's, optional.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { tempDir, vigil, writeScenario } from '../support/cli.ts';

let mosquitto: Mosquitto;
beforeAll(async () => {
  // mosquitto says so at notice level when it starts dropping for a client.
  mosquitto = await startMosquitto(['max_queued_messages 100', 'log_type notice']);
});
afterAll(async () => {
  await mosquitto?.stop();
});

describe('slow consumer behind mosquitto', () => {
  it('the broker drops what overflows its queue; store-and-forward resends it; nothing is lost', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'slow', {
      name: 'slow', seed: 6, speed: 120, duration: '60m', fleet: { psem: 40 }, behaviour: { scale: 30 },
      faults: [{ name: 'slow', kind: 'slow-consumer', from: '+20m', until: '+30m' }],
    });
    const r = await vigil(['run', file, '--broker', mosquitto.url, '--out', dir], { timeoutMs: 150_000 });
    const run = r.run!;
    expect(run, r.stdout + r.stderr).toBeDefined();
    expect(r.code, r.stdout).toBe(0);
    expect(run.verdict).toBe('PASS');
    expect(run.ledger).toMatchObject({ dropped: 0, spurious: 0, duplicates: 0 });
    expect(run.completeness.recordsMissing).toBe(0);
    expect(run.faults[0]).toMatchObject({ name: 'slow', kind: 'slow-consumer' });
    // The test can fail: the broker really dropped uplinks for the slow pipeline, and devices resent them.
    expect(mosquitto.log()).toMatch(/Outgoing messages are being dropped for client/);
    expect(run.fleet.resent ?? 0, r.stdout).toBeGreaterThan(0);
    const journal = readFileSync(join(r.runDir!, 'journal.jsonl'), 'utf8');
    expect(journal).toMatch(/"event":"start","at":\d+,"fault":"slow","kind":"slow-consumer"/);
  }, 180_000);
});
