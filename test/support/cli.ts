/**
 * Runs the real `vigil` command as a user would (STYLE.md §9): a child process, its exit code,
 * its output, and the run.json it wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { RunResult } from '../../reports/run-result.ts';
import { alarmKey } from '../../sim/model/oracle/oracle.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const VIGIL = join(REPO, 'bin/vigil.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** The run directory the command wrote, if any. */
  readonly runDir?: string;
  readonly run?: RunResult;
}

/** A temporary folder that is an ESM package, like a user's scenario project. */
export function tempDir(prefix = 'vigil-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  return dir;
}

/** Writes a scenario file into `dir` and returns its path. */
export function writeScenario(dir: string, name: string, body: Record<string, unknown>): string {
  const file = join(dir, `${name}.scenario.ts`);
  const define = join(REPO, 'scenarios/define.ts');
  writeFileSync(file, `import { defineScenario } from ${JSON.stringify(define)};\nexport default defineScenario(${JSON.stringify(body, null, 2)});\n`);
  return file;
}

/** `onStdout` sees the output as it comes (a test that must act on a line before the command ends). */
/** `cwd`: where the command runs (the project root, whose vigil.config.ts it reads); default the repository. */
export function vigil(args: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number; onStdout?: (soFar: string) => void; cwd?: string } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VIGIL, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${args.join(' ')} did not finish within ${opts.timeoutMs} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const outIdx = args.indexOf('--out');
      let runDir: string | undefined;
      let run: RunResult | undefined;
      if (outIdx >= 0) {
        const out = args[outIdx + 1] as string;
        const dirs = existsSync(out) ? readdirSync(out).filter((d) => existsSync(join(out, d, 'run.json'))) : [];
        if (dirs.length > 0) {
          runDir = join(out, dirs.sort().at(-1) as string);
          run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunResult;
        }
      }
      resolve({ code, stdout, stderr, ms: Date.now() - started, runDir, run });
    });
  });
}

/**
 * The run passed and lost nothing: exit 0, verdict PASS, no alarm dropped, late (beyond an
 * allowance), spurious or duplicated, every record stored. Returns run.json.
 */
export function expectCleanPass(r: CliResult): RunResult {
  const run = r.run as RunResult;
  expect(run, r.stdout + r.stderr).toBeDefined();
  expect(r.code, r.stdout).toBe(0);
  expect(run.verdict).toBe('PASS');
  expect(run.ledger).toMatchObject({ dropped: 0, late: 0, spurious: 0, duplicates: 0 });
  expect(run.completeness.recordsMissing).toBe(0);
  return run;
}

/** Every alarm a run expected, as sorted alarm keys, from its journal. */
export function expectedKeys(runDir: string): string[] {
  return readFileSync(join(runDir, 'journal.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { t: string; deviceId: string; kind: string; seq: number; zoneId?: string; pairId?: string })
    .filter((j) => j.t === 'expectation').map((j) => alarmKey(j)).sort();
}
