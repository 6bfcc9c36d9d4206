/**
 * Issue 8 item 5: kill -9 of Vigil mid-run, then `vigil verify` rebuilds the ledger from the journal
 * alone — every observation journaled before the kill is in it, the span is said, and the run that
 * did not finish is not passed — and `vigil heal` undoes what the killed run left behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../reports/run-result.ts';
import { REPO, VIGIL, tempDir, vigil, writeScenario } from '../support/cli.ts';

/** The journal's lines that parse (a torn last one is left out, as `vigil verify` leaves it out). */
function journalLines(file: string): { t: string; alarmId?: string }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // not written yet
  }
  return text.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { t: string; alarmId?: string }];
    } catch {
      return [];
    }
  });
}

/** Processes whose command line names `text` (Linux /proc). */
function processesNaming(text: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  }).map(Number);
}

describe('kill -9 mid-run', () => {
  it('vigil verify rebuilds the ledger of everything observed before the kill; vigil heal clears what the run left', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'crash', {
      name: 'crash', seed: 2021, speed: 480, start: '2021-10-25T14:00:00+02:00', duration: '30m',
      fleet: { pse: 20, psem: 30, bar: 3 }, behaviour: { scale: 40 },
    });
    const child = spawn(process.execPath, [VIGIL, 'run', file, '--out', dir, '--progress', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const runDirOf = (): string | undefined => readdirSync(dir).filter((d) => d.includes('-crash-')).map((d) => join(dir, d))[0];
    const t0 = Date.now();
    // Some alarms observed (and flushed), the timeline far from its end: kill.
    while (journalLines(join(runDirOf() ?? dir, 'journal.jsonl')).filter((l) => l.t === 'observation').length < 5) {
      if (Date.now() - t0 > 30_000) throw new Error(`no alarm observed within 30 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const runDir = runDirOf() as string;
    expect(existsSync(join(runDir, 'run.json'))).toBe(false);
    expect(existsSync(join(runDir, 'active-faults.json'))).toBe(true);
    const observed = journalLines(join(runDir, 'journal.jsonl')).filter((l) => l.t === 'observation');

    const v = await vigil(['verify', runDir], { timeoutMs: 20_000 });
    expect(v.code, v.stdout + v.stderr).toBe(1); // a run that did not finish is never a PASS
    expect(v.stdout).toMatch(/^the journal stops at 2021-10-25T12:\d\d:\d\d\.\d{3}Z: the run did not finish; the ledger covers 2021-10-25T12:00:00\.000Z → /m);
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunResult;
    expect(run.rebuilt).toMatchObject({ runEnded: false, from: '2021-10-25T12:00:00.000Z' });
    expect(Date.parse(run.rebuilt!.to)).toBeLessThan(Date.parse('2021-10-25T12:30:00Z'));
    // Every observation journaled before the kill is in the ledger: matched to its expectation, or
    // unmatched at the crash (its expectation not journaled yet) — none lost, none dropped by the crash.
    const inLedger = Object.values(run.perKind).reduce((n, k) => n + k.observed, 0) + run.rebuilt!.unmatched;
    expect(inLedger).toBe(observed.length);
    expect(run.ledger).toMatchObject({ late: 0, spurious: 0, duplicates: 0 });
    expect(run.ledger.onTime).toBeGreaterThanOrEqual(5);
    expect(run.checks.find((c) => c.name === 'the run finished')).toMatchObject({ passed: false });
    expect(readFileSync(join(runDir, 'report.html'), 'utf8')).toMatch(/Rebuilt from journal.jsonl by vigil verify, not written by the run: the journal stops at 2021-10-25T12:\d\d:\d\d\.\d{3}Z: the run did not finish/);

    const h = await vigil(['heal', '--out', dir], { timeoutMs: 20_000 });
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(new RegExp(`^heal: run ${runDir.split('/').at(-1)}: (stopped its leftover reference pipeline|its reference pipeline \\(pid \\d+\\) had already exited)`, 'm'));
    expect(existsSync(join(runDir, 'active-faults.json'))).toBe(false);
    expect(processesNaming(join(runDir, 'pipeline.db'))).toEqual([]);
  }, 30_000);
});
