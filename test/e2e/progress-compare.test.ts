/**
 * Issue 6, items 2 and 5, with the real command: progress while a run goes — plain lines without a
 * control character when stdout is a pipe, one line redrawn in place on a terminal (a real
 * pseudo-terminal, by util-linux `script`) — and `vigil compare` on those two runs of one scenario
 * and seed, on copies of them made worse or of another seed, and on a run directory that is not there.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../reports/run-result.ts';
import { REPO, VIGIL, tempDir, vigil, writeScenario, type CliResult } from '../support/cli.ts';

// Any C0 control character or DEL but the newline.
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;
/** A live progress frame: carriage return, the line, erase to its end (reports/progress-writer.ts). */
const FRAME = /\r\d+% {2}virtual [^\r\n]*alarms \d+ expected[^\r\n]*\x1b\[K/g;

/** Runs `vigil args` on a pseudo-terminal (`script` from util-linux, in Debian's essential bsdutils): stdout is a TTY. */
function vigilOnTerminal(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  const command = [process.execPath, VIGIL, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

function runDirIn(out: string): string {
  const dirs = readdirSync(out).filter((d) => existsSync(join(out, d, 'run.json')));
  expect(dirs, `no run directory in ${out}`).toHaveLength(1);
  return join(out, dirs[0] as string);
}

/** A copy of a run directory with its run.json changed by `edit`. */
function copyWith(runDir: string, edit: (r: RunResult) => RunResult): string {
  const to = join(tempDir('vigil-compare-'), 'run');
  cpSync(runDir, to, { recursive: true });
  const r = JSON.parse(readFileSync(join(to, 'run.json'), 'utf8')) as RunResult;
  writeFileSync(join(to, 'run.json'), JSON.stringify(edit(r)));
  return to;
}

describe('progress while a run goes, and vigil compare', () => {
  let piped: CliResult;
  let onTerminal: { code: number | null; out: string };
  let runA: string;
  let runB: string;

  beforeAll(async () => {
    const dir = tempDir();
    // 20 virtual minutes at speed 240: 5 s of timeline, about 18 alarms from a busy small fleet.
    const file = writeScenario(dir, 'progress', {
      name: 'progress', seed: 11, speed: 240, start: '2021-10-25T16:00:00+02:00', duration: '20m',
      fleet: { pse: 10, psem: 8, bar: 2 }, behaviour: { scale: 40 },
    });
    const [outA, outB] = [join(dir, 'a'), join(dir, 'b')];
    [piped, onTerminal] = await Promise.all([
      vigil(['run', file, '--out', outA, '--progress', '1']),
      vigilOnTerminal(['run', file, '--out', outB]),
    ]);
    runA = runDirIn(outA);
    runB = runDirIn(outB);
  }, 120_000);

  it('on a pipe: plain progress lines, and not one control character in the whole output', () => {
    expect(piped.code, piped.stdout + piped.stderr).toBe(0);
    const lines = piped.stdout.split('\n').filter((l) => /^\d+% {2}virtual /.test(l));
    expect(lines.length, piped.stdout).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatch(/alarms \d+ expected, \d+ detected, \d+ pending, \d+ overdue {2}\| {2}faults none {2}\| {2}\d+ msg\/s {2}\| {2}devices \d+\/22 connected/);
    expect(piped.stdout + piped.stderr).not.toMatch(CONTROL);
  });

  it('on a terminal: one line redrawn in place, frame after frame with no newline between', () => {
    expect(onTerminal.code, onTerminal.out).toBe(0);
    const frames = onTerminal.out.match(FRAME) ?? [];
    expect(frames.length, JSON.stringify(onTerminal.out.slice(0, 2000))).toBeGreaterThanOrEqual(3);
    // Two frames back to back: the second overwrote the first, on the same line.
    expect(onTerminal.out).toMatch(new RegExp(`${FRAME.source}${FRAME.source}`));
    // The summary starts on a line of its own after the last frame.
    expect(onTerminal.out).toMatch(/\x1b\[K\r?\n(.*\n)*PASS {2}progress/);
  });

  it('compares the two runs side by side: same scenario and seed, B within the thresholds', async () => {
    // At speed 240 a 100 ms hiccup of a shared machine is 24 virtual seconds: a generous slack keeps
    // two runs of the same code from differing by the machine's load alone.
    const r = await vigil(['compare', runA, runB, '--slack', '600']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('progress  seed 11  22 devices');
    expect(r.stdout).toMatch(/^A {2}\S+ {2}PASS/m);
    expect(r.stdout).toMatch(/^ {2}expected +(\d+) +\1 +0$/m);
    expect(r.stdout).toMatch(/^ {2}\S+ p99 +\d+\.\d s +\d+\.\d s/m);
    expect(r.stdout).toContain('B is within the thresholds of A');
  });

  it('exits 1, naming why, when B is worse — and writes the same as HTML', async () => {
    const worse = copyWith(runB, (r) => ({ ...r, verdict: 'FAIL', ledger: { ...r.ledger, dropped: r.ledger.dropped + 2 } }));
    const html = join(tempDir(), 'compare.html');
    const [r, lax] = await Promise.all([
      vigil(['compare', runA, worse, '--slack', '600', '--html', html]),
      vigil(['compare', runA, worse, '--slack', '600', '--max-new-drops', '2']),
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('WORSE: 2 more in B (at most 0: --max-new-drops)');
    expect(r.stdout).toContain('B is worse than A: 2 thresholds crossed');
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<tr class="worse"><td>dropped<\/td><td>0<\/td><td>2<\/td><td>\+2<\/td>/);
    // Allowed two more drops, B is worse only by its verdict.
    expect(lax.stdout).toContain('B is worse than A: 1 threshold crossed');
  });

  it('refuses, plainly, runs of different seeds and a run directory that is not there (exit 2)', async () => {
    const other = copyWith(runB, (r) => ({ ...r, scenario: { ...r.scenario, seed: 12 } }));
    const [seed, missing] = await Promise.all([vigil(['compare', runA, other]), vigil(['compare', runA, join(runA, 'nope')])]);
    expect(seed.code).toBe(2);
    expect(seed.stdout).toBe('');
    expect(seed.stderr.trim()).toMatch(/^vigil: not compared: .* did not run the same load \(seed 11 vs 12\).* — compare a run with a baseline of the same scenario file.*\[VIGIL_RUNS_NOT_COMPARABLE\]$/);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^vigil: run B \(.*nope\): no such directory — .*\[VIGIL_RUN_NOT_FOUND\]$/);
  });
});
