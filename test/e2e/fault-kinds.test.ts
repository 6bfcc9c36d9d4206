/**
 * Issue 4: every network fault kind in one run, each on its own six GPS bracelets, and the ledger's
 * verdict on each window. The effect of each kind on the wire is tested against real brokers in
 * sim/network/proxy.test.ts; here the question is what the harness concludes: with
 * store-and-forward firmware nothing is lost, the faults that silence devices for longer than the
 * offline timeout require (and get) their communication_loss alarms, the others require none.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanPass, tempDir, vigil, writeScenario } from '../support/cli.ts';

const six = (first: number): string[] => Array.from({ length: 6 }, (_, i) => `PSEM-${String(first + i).padStart(5, '0')}`);
const window = { from: '+30m', until: '+60m' };

describe('every network fault kind, judged', () => {
  it('silencing faults require communication_loss, degrading ones do not, nothing is lost', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'fault-kinds', {
      name: 'fault-kinds', seed: 5, speed: 120, start: '2021-10-25T14:00:00+02:00', duration: '2h',
      fleet: { psem: 54 },
      behaviour: { scale: 20 },
      faults: [
        { name: 'black-hole', kind: 'black-hole', ...window, target: { devices: six(1) } },
        { name: 'ack-then-lose', kind: 'ack-then-lose', ...window, target: { devices: six(7) } },
        { name: 'partition', kind: 'partition', ...window, target: { devices: six(13) } },
        // A reset storm into refused reconnects: the stampede finds the door shut.
        { name: 'reset', kind: 'reset', from: '+30m', until: '+31m', target: { devices: six(19) } },
        { name: 'refuse', kind: 'refuse', ...window, target: { devices: six(19) } },
        { name: 'latency', kind: 'latency', ...window, delay: '20s', jitter: '5s', target: { devices: six(25) } },
        { name: 'loss', kind: 'loss', ...window, rate: 0.3, target: { devices: six(31) } },
        { name: 'bandwidth', kind: 'bandwidth', ...window, bytesPerSecond: 2000, target: { devices: six(37) } },
        { name: 'nat-idle', kind: 'nat-idle', ...window, idle: '2m', target: { devices: six(43) } },
        // A backlog (made behind a black hole) meets a small MTU: single records pass, the flush stalls.
        // Long enough for the devices to give up on the black-holed session (3 ack timeouts) and redial into it.
        { name: 'mtu-backlog', kind: 'black-hole', from: '+30m', until: '+40m', target: { devices: six(49) } },
        { name: 'mtu', kind: 'mtu', from: '+40m', until: '+100m', maxBytes: 400, target: { devices: six(49) } },
      ],
    });
    const r = await vigil(['run', file, '--out', dir]);
    const run = expectCleanPass(r);

    const byName = new Map(run.faults.map((f) => [f.name, f]));
    expect([...byName.keys()]).toHaveLength(11);
    // Thirty minutes without a byte through: an alarm for each of the six devices still reporting
    // (one may have gone quiet on its own before, a battery run flat at behaviour scale 20), on time.
    // The MTU black hole silences too: the backlog flush stalls each session it is sent on.
    for (const name of ['black-hole', 'ack-then-lose', 'partition', 'refuse', 'mtu']) {
      const f = byName.get(name)!;
      expect(f.absence.required, `${name}: ${JSON.stringify(f)}`).toBeGreaterThanOrEqual(5);
      expect(f.absence, name).toMatchObject({ onTime: f.absence.required, missing: 0, late: 0 });
      expect(f.drainMs, name).not.toBeNull();
    }
    // A slower path is not a silent one.
    for (const name of ['latency', 'loss', 'bandwidth']) {
      expect(byName.get(name)!.absence, name).toMatchObject({ required: 0, missing: 0 });
    }
    // Every window is a junit testcase, and passed.
    const junit = readFileSync(join(r.runDir!, 'junit.xml'), 'utf8');
    for (const name of byName.keys()) expect(junit).toContain(`name="fault ${name} (`);
    for (const c of run.checks.filter((x) => x.name.startsWith('fault '))) expect(c.passed, c.summary).toBe(true);

    // The journal shows the faults at work on connections: resets, black holes, NAT expiries, the MTU stall.
    const events = readFileSync(join(r.runDir!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; type?: string; deviceId?: string });
    const net = (type: string): string[] => events.filter((e) => e.t === 'network' && e.type === type).map((e) => e.deviceId as string);
    expect(new Set(net('reset'))).toEqual(new Set([...six(13), ...six(19)]));
    expect(net('black-holed').length).toBeGreaterThan(0);
    expect(net('stall').every((d) => six(49).includes(d))).toBe(true);
    expect(net('stall').length).toBeGreaterThan(0);
    expect(net('nat-expired').every((d) => six(43).includes(d))).toBe(true);
  });
});
