import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VigilError } from '../protocol/errors.ts';
import { readComparedRun } from './compare-read.ts';

const dir = (): string => mkdtempSync(join(tmpdir(), 'vigil-compare-read-'));

function refusal(path: string): VigilError {
  try {
    readComparedRun(path, 'B');
  } catch (err) {
    return err as VigilError;
  }
  throw new Error(`read ${path} without complaint`);
}

describe('readComparedRun refuses what it cannot compare, saying what and how to fix it', () => {
  it('a directory that is not there', () => {
    const e = refusal(join(dir(), 'runs', 'nope'));
    expect(e.code).toBe('VIGIL_RUN_NOT_FOUND');
    expect(e.message).toMatch(/^run B \(.*nope\): no such directory$/);
    expect(e.fix).toContain('runs/<run-id>');
  });

  it('a run that did not finish: a journal and no run.json', () => {
    const d = dir();
    writeFileSync(join(d, 'journal.jsonl'), '{}\n');
    const e = refusal(d);
    expect(e.code).toBe('VIGIL_RUN_INVALID');
    expect(e.message).toContain('has no run.json (only a journal: the run did not finish)');
  });

  it('a run.json cut short', () => {
    const d = dir();
    writeFileSync(join(d, 'run.json'), '{"schemaVersion": 3, "runId": "x", "scen');
    expect(refusal(d).message).toContain('is not JSON');
  });

  it('a run.json of another schema version', () => {
    const d = dir();
    writeFileSync(join(d, 'run.json'), JSON.stringify({ schemaVersion: 2, runId: 'old' }));
    const e = refusal(d);
    expect(e.message).toContain('run.json has schema version 2, and this Vigil reads version 3');
    expect(e.fix).toContain('run the scenario again');
  });

  it('a run.json of this schema with fields missing, naming them', () => {
    const d = join(dir(), 'run');
    mkdirSync(d);
    writeFileSync(join(d, 'run.json'), JSON.stringify({ schemaVersion: 3, runId: 'partial', vigilVersion: '0.1.0' }));
    const e = refusal(join(d, 'run.json'));
    expect(e.code).toBe('VIGIL_RUN_INVALID');
    expect(e.message).toMatch(/missing or has wrong fields \(scenario: .*; broker: /);
  });
});
