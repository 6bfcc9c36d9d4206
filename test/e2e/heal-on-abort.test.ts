/**
 * Issue 4: heal always runs — here on Ctrl-C in the middle of a fault. The run stops, heals every
 * device it had faulted (journaled), still reports, and exits.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, VIGIL, tempDir, writeScenario } from '../support/cli.ts';

describe('heal on abort', () => {
  it('Ctrl-C during a fault heals every faulted device and still writes the report', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'abort', {
      name: 'abort', seed: 3, speed: 60, duration: '2h', fleet: { psem: 10 },
      faults: [{ name: 'long-cut', kind: 'black-hole', from: '+5m', until: '+110m', target: { fraction: 0.5 } }],
    });
    // Its own process group, signalled as a whole below: a terminal's Ctrl-C reaches every process
    // of the foreground group — Vigil, the pipeline, the proxy workers — not only Vigil.
    const child = spawn(process.execPath, [VIGIL, 'run', file, '--out', dir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // Wait until the fault is on (the journal says so), then interrupt.
    const journalOf = (): string => {
      const run = readdirSync(dir).find((d) => d.includes('-abort-'));
      try {
        return run ? readFileSync(join(dir, run, 'journal.jsonl'), 'utf8') : '';
      } catch {
        return ''; // not written yet
      }
    };
    const t0 = Date.now();
    while (!journalOf().includes('"event":"start"')) {
      if (Date.now() - t0 > 60_000) throw new Error(`the fault never started:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, 'SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect([0, 1], out).toContain(code); // a verdict, not a crash
    expect(out).toMatch(/stopping — draining, reading and reporting/);
    expect(out).not.toMatch(/exited unexpectedly|failed/);
    const lines = journalOf().trim().split('\n').map((l) => JSON.parse(l) as { t: string; event?: string; fault?: string; devices?: unknown; at: number });
    const start = lines.find((l) => l.t === 'fault' && l.event === 'start')!;
    const heals = lines.filter((l) => l.t === 'fault' && l.event === 'heal' && l.fault === 'long-cut');
    expect(start.devices).toBe(5);
    expect(heals.flatMap((h) => h.devices as string[]).sort()).toHaveLength(5);
    // Healed at the abort, long before the fault's own end (+110 min).
    expect(heals[0]!.at).toBeLessThan(Date.parse('2021-10-25T12:00:00Z') + 100 * 60_000);
    const runs = readdirSync(dir).filter((d) => d.includes('-abort-'));
    expect(readdirSync(join(dir, runs[0] as string))).toContain('run.json');
  });
});
