import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VigilError } from '../../protocol/errors.ts';
import { tempDir } from '../../test/support/cli.ts';
import { writeSampleRunDir } from '../../test/support/sample-run.ts';
import { readRunDir } from './run-dir.ts';

function failure(dir: string): VigilError {
  try {
    readRunDir(dir);
  } catch (err) {
    if (err instanceof VigilError) return err;
    throw err;
  }
  throw new Error(`readRunDir(${dir}) did not fail`);
}

describe('reading a run directory', () => {
  it('reads run.json, the journal, provisioning and the byte log excerpt (first and last lines)', () => {
    const r = readRunDir(writeSampleRunDir({ byteLogLines: 12 }));
    expect(r.run.runId).toBe('20261130-120000-sample-abc123');
    expect(r.journal).toHaveLength(11 + 62); // alarms and faults, and one records line per minute
    expect(r.provisioning?.devices).toHaveLength(4);
    const log = r.byteLogs.get('PSEM-00003')!;
    expect(log.lines).toBe(12);
    expect(log.head.map((l) => l.match(/line (\d+)/)?.[1])).toEqual(['1', '2', '3', '4', '5']);
    expect(log.tail.map((l) => l.match(/line (\d+)/)?.[1])).toEqual(['8', '9', '10', '11', '12']);
    expect(r.notes).toEqual([]);
  });

  it('a short byte log is shown once, not twice', () => {
    const log = readRunDir(writeSampleRunDir({ byteLogLines: 3 })).byteLogs.get('PSEM-00003')!;
    expect([...log.head, ...log.tail]).toHaveLength(3);
  });

  it('a missing directory, a missing or torn run.json, another schema: VIGIL_RUN_DIR_INVALID naming the problem', () => {
    expect(failure('/nonexistent/run').message).toMatch(/no run directory at \/nonexistent\/run/);

    const empty = tempDir();
    expect(failure(empty).message).toMatch(/has no run\.json: the run did not reach its verdict/);

    const torn = writeSampleRunDir();
    writeFileSync(join(torn, 'run.json'), '{"schemaVersion": 3, "runId"');
    expect(failure(torn).message).toMatch(/run\.json is not valid JSON/);

    const newer = writeSampleRunDir();
    writeFileSync(join(newer, 'run.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(newer, 'run.json'), 'utf8')), schemaVersion: 4 }));
    const e = failure(newer);
    expect(e.code).toBe('VIGIL_RUN_DIR_INVALID');
    expect(e.oneLine()).toMatch(/schema version 4; this Vigil reports on schemas 1 to 3 — report it with the Vigil that wrote it/);

    const partial = writeSampleRunDir();
    const { faults: _f, failures: _x, ...rest } = JSON.parse(readFileSync(join(partial, 'run.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(partial, 'run.json'), JSON.stringify(rest));
    expect(failure(partial).message).toMatch(/lacks failures, faults/);

    const notADir = join(tempDir(), 'file');
    mkdirSync(join(notADir, '..'), { recursive: true });
    writeFileSync(notADir, '');
    expect(failure(notADir).message).toMatch(/no run directory/);
  });

  it('an older schema is reported on: what it did not record yet is empty and named', () => {
    const dir = writeSampleRunDir();
    const { faults: _f, lateAllowed: _l, absence: _a, latencyUnderFaultMs: _u, perDeviceType: _p, ...v1 } = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
    const { lateAllowed: _la, ...ledger } = v1['ledger'] as Record<string, unknown>;
    const { mix: _m, ...scenario } = v1['scenario'] as Record<string, unknown>;
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...v1, schemaVersion: 1, ledger, scenario }));
    const r = readRunDir(dir);
    expect(r.notes).toEqual(['run.json is schema 1 (this Vigil writes 3): it has no perDeviceType, latencyUnderFaultMs, faults, lateAllowed, absence, ledger.lateAllowed, scenario.mix; those parts are shown empty']);
    expect(r.run.faults).toEqual([]);
    expect(r.run.ledger.lateAllowed).toBe(0);
    expect(r.run.ledger.dropped).toBe(1);
  });

  it('what is missing besides run.json is said, not fatal: no journal, no provisioning, a torn line, a lost byte log', () => {
    const dir = writeSampleRunDir({ omit: ['journal.jsonl', 'provisioning.json', 'hil-PSEM-00003.log'] });
    const r = readRunDir(dir);
    expect(r.journal).toBeUndefined();
    expect(r.provisioning).toBeUndefined();
    expect(r.notes).toEqual([
      'journal.jsonl is missing: the alarms-per-minute and pending-alarms charts are left out',
      'provisioning.json is missing: the map shows no devices',
      'hil-PSEM-00003.log (the byte log of PSEM-00003) is missing',
    ]);

    const torn = writeSampleRunDir();
    appendFileSync(join(torn, 'journal.jsonl'), '{"t":"observation","at":16351');
    const t = readRunDir(torn);
    expect(t.journal).toHaveLength(11 + 62);
    expect(t.notes).toEqual(['journal.jsonl: 1 line could not be read and is left out of the charts']);
    rmSync(torn, { recursive: true });
  });
});
