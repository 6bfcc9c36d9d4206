/**
 * An endpoint move judged end to end: half of 20 GPS bracelets lose the broker's old address at
 * +30m and learn the new one as their cached DNS entries expire over 15 minutes. With
 * store-and-forward firmware nothing is lost; the devices whose cache outlived the offline timeout
 * were silent as the pipeline saw it and get their communication_loss, on time (so may devices that
 * moved a little earlier: the silence runs from their last record before the move); the devices
 * not moved raise none.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanPass, tempDir, vigil, writeScenario } from '../support/cli.ts';

interface Line {
  t: string;
  at: number;
  event?: string;
  fault?: string;
  kind?: string;
  type?: string;
  deviceId?: string;
  devices?: string[] | number;
  dnsTtl?: number;
  message?: string;
}

describe('endpoint move', () => {
  it('devices follow the move as their DNS expires; the late ones owe communication_loss and get it; nothing is lost', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'endpoint-move', {
      name: 'endpoint-move', seed: 3, speed: 120, start: '2021-10-25T14:00:00+02:00', duration: '90m',
      fleet: { psem: 20 },
      faults: [{ name: 'move', kind: 'endpoint-move', from: '+30m', until: '+60m', dnsTtl: '15m', target: { fraction: 0.5 } }],
    });
    const r = await vigil(['run', file, '--out', dir]);
    const run = expectCleanPass(r);

    const start = Date.parse('2021-10-25T14:00:00+02:00');
    const from = start + 30 * 60_000;
    const offline = 10 * 60_000;
    const [f] = run.faults;
    expect(f).toMatchObject({ name: 'move', kind: 'endpoint-move', devices: 10, from: new Date(from).toISOString() });
    expect(f!.absence, JSON.stringify(f)).toMatchObject({ missing: 0, late: 0 });

    const lines = readFileSync(join(r.runDir!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    const mine = lines.filter((l) => l.t === 'fault' && l.fault === 'move');
    expect(mine[0]).toMatchObject({ event: 'start', kind: 'endpoint-move', devices: 10, dnsTtl: 15 * 60_000, effect: { kind: 'partition' } });
    expect(mine.at(-1)?.event).toBe('heal');
    // Each targeted device learned the new address once, in [from, from + dnsTtl] (journaled within a tick).
    const dnsAt = new Map<string, number>();
    for (const l of mine.filter((x) => x.event === 'dns')) for (const id of l.devices as string[]) dnsAt.set(id, l.at);
    expect(dnsAt.size).toBe(10);
    for (const at of dnsAt.values()) {
      expect(at).toBeGreaterThanOrEqual(from);
      expect(at).toBeLessThanOrEqual(from + 15 * 60_000 + 20_000);
    }

    // The old address reset and refused the moving devices only.
    const resets = new Set(lines.filter((l) => l.t === 'network' && l.type === 'reset').map((l) => l.deviceId));
    expect([...resets].every((id) => dnsAt.has(id!))).toBe(true);
    expect(resets.size).toBe(10);

    // The harness journals its own link trouble: only the moving devices' links failed (the old
    // address reset and refused them), each line with its error and a virtual time in the fault.
    const linkErrors = lines.filter((l) => l.t === 'event' && l.event === 'link-error');
    expect(linkErrors.length).toBeGreaterThan(0);
    for (const l of linkErrors) {
      expect(dnsAt.has(l.deviceId!), JSON.stringify(l)).toBe(true);
      expect(l.message, JSON.stringify(l)).toMatch(/\S/);
      expect(l.at, JSON.stringify(l)).toBeGreaterThanOrEqual(from);
    }

    // Silent longer than the offline timeout as the pipeline saw it: the late movers' alarms; only theirs.
    const losses = new Set(lines.filter((l) => l.t === 'observation' && l.kind === 'communication_loss' && l.at >= from).map((l) => l.deviceId as string));
    const late = [...dnsAt].filter(([, at]) => at - from > offline).map(([id]) => id);
    expect(late.length, JSON.stringify([...dnsAt])).toBeGreaterThan(0);
    for (const id of late) expect(losses, id).toContain(id);
    for (const id of losses) expect(dnsAt.has(id), id).toBe(true);
    expect(f!.absence.required + f!.absence.optional).toBeGreaterThanOrEqual(late.length);
    expect(f!.drainMs).not.toBeNull();
  });
});
