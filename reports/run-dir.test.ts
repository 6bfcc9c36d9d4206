import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VigilError } from '../protocol/errors.ts';
import { tempDir } from '../test/support/cli.ts';
import { writeSampleRunDir } from '../test/support/sample-run.ts';
import { readComparedRun, readRunDir } from './run-dir.ts';
import { SCHEMA_VERSION } from './run-result.ts';

function failure(read: () => unknown): VigilError {
  try {
    read();
  } catch (err) {
    if (err instanceof VigilError) return err;
    throw err;
  }
  throw new Error('read without complaint');
}

const report = (path: string) => (): unknown => readRunDir(path);
const compare = (path: string) => (): unknown => readComparedRun(path, 'B');

/** The sample run directory with its run.json changed by `edit` (or replaced by a string). */
function withRunJson(edit: ((raw: Record<string, unknown>) => unknown) | string): string {
  const dir = writeSampleRunDir();
  const file = join(dir, 'run.json');
  writeFileSync(file, typeof edit === 'string' ? edit : JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)));
  return dir;
}

describe('a run directory neither vigil report nor vigil compare can read: one code and message per problem', () => {
  it('no such directory, or a path that is no run directory: VIGIL_RUN_NOT_FOUND', () => {
    const missing = join(tempDir(), 'runs', 'nope');
    expect(failure(report(missing)).oneLine()).toMatch(/^.*runs\/nope: no such directory — give the runs\/<run-id> directory that `vigil run` printed on its `report:` line \(ls runs\/\), or its run\.json \[VIGIL_RUN_NOT_FOUND\]$/);
    expect(failure(compare(missing)).message).toMatch(/^run B \(.*nope\): no such directory$/);

    const empty = tempDir();
    for (const read of [report(empty), compare(empty)]) {
      const e = failure(read);
      expect(e.code).toBe('VIGIL_RUN_NOT_FOUND');
      expect(e.message).toContain('neither run.json nor journal.jsonl — not a run directory');
    }
    const notADir = join(tempDir(), 'notes.txt');
    mkdirSync(join(notADir, '..'), { recursive: true });
    writeFileSync(notADir, '');
    expect(failure(report(notADir)).message).toMatch(/notes\.txt: a file, not a run directory$/);
  });

  it('only a journal (the run did not finish): VIGIL_RUN_UNFINISHED, saying what the journal keeps and what neither can make of it', () => {
    const dir = writeSampleRunDir({ omit: ['run.json'] });
    const r = failure(report(dir));
    expect(r.code).toBe('VIGIL_RUN_UNFINISHED');
    expect(r.message).toContain('has no run.json, only journal.jsonl: the run did not finish. The journal keeps what happened until it stopped (alarms expected and seen, fault events, records per minute');
    expect(r.message).toContain('report.html cannot be regenerated from it: the verdict, the ledger, latency, completeness and the header come from the drain and the final read');
    expect(r.fix).toContain('run the scenario again to completion');
    const c = failure(compare(dir));
    expect(c.code).toBe('VIGIL_RUN_UNFINISHED');
    expect(c.message).toMatch(/^run B \(.*\) has no run\.json, only journal\.jsonl: .*it cannot be compared: a comparison needs the verdict and the ledger/);
  });

  it('run.json cut short, or not an object: VIGIL_RUN_TRUNCATED', () => {
    const torn = withRunJson('{"schemaVersion": 3, "runId"');
    for (const read of [report(torn), compare(torn)]) {
      const e = failure(read);
      expect(e.code).toBe('VIGIL_RUN_TRUNCATED');
      expect(e.message).toMatch(/run\.json is not JSON \(.*\): it was cut short or edited$/);
    }
    expect(failure(report(withRunJson('[1, 2]'))).message).toContain('is JSON but not a run.json object');
  });

  it('another schema version: VIGIL_RUN_SCHEMA — the report takes older ones, the comparison this one only', () => {
    const newer = withRunJson((r) => ({ ...r, schemaVersion: SCHEMA_VERSION + 1 }));
    const e = failure(report(newer));
    expect(e.code).toBe('VIGIL_RUN_SCHEMA');
    expect(e.oneLine()).toContain(`run.json has schema version ${SCHEMA_VERSION + 1}, and this Vigil reports on versions 1 to ${SCHEMA_VERSION} — report it with the Vigil that wrote it`);

    const older = withRunJson((r) => ({ ...r, schemaVersion: 2 }));
    expect(readRunDir(older).notes[0]).toMatch(/^run\.json is schema 2 \(this Vigil writes 3\)/);
    const c = failure(compare(older));
    expect(c.code).toBe('VIGIL_RUN_SCHEMA');
    expect(c.message).toMatch(/^run B \(.*\): run\.json has schema version 2, and this Vigil compares version 3 only$/);
    expect(c.fix).toContain('run the scenario again with this Vigil');
    expect(failure(compare(withRunJson((r) => ({ ...r, schemaVersion: undefined })))).message).toContain('schema version none');
  });

  it('a field missing or wrong: VIGIL_RUN_INVALID, naming the fields', () => {
    const partial = withRunJson(({ faults: _f, failures: _x, ...rest }) => rest);
    const e = failure(report(partial));
    expect(e.code).toBe('VIGIL_RUN_INVALID');
    expect(e.message).toMatch(/run\.json is missing or has wrong fields \(failures: .*; faults: .*\)$/);
    const c = failure(compare(join(withRunJson(({ broker: _b, scenario: _s, ...rest }) => rest), 'run.json')));
    expect(c.code).toBe('VIGIL_RUN_INVALID');
    expect(c.message).toMatch(/^run B \(.*run\.json\): run\.json is missing or has wrong fields \(scenario: .*; broker: /);
    expect(c.fix).toContain('run the scenario again');
  });
});

describe('vigil report: what it can regenerate', () => {
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

  it('takes the run.json path as well as its directory', () => {
    const dir = writeSampleRunDir();
    const r = readRunDir(join(dir, 'run.json'));
    expect(r.dir).toBe(dir);
    expect(r.journal).toHaveLength(11 + 62);
  });

  it('a short byte log is shown once, not twice', () => {
    const log = readRunDir(writeSampleRunDir({ byteLogLines: 3 })).byteLogs.get('PSEM-00003')!;
    expect([...log.head, ...log.tail]).toHaveLength(3);
  });

  it('an older schema is reported on: what it did not record yet is empty and named', () => {
    const dir = withRunJson((raw) => {
      const { faults: _f, lateAllowed: _l, absence: _a, latencyUnderFaultMs: _u, perDeviceType: _p, records: _r, ...v1 } = raw;
      const { lateAllowed: _la, ...ledger } = v1['ledger'] as Record<string, unknown>;
      const { mix: _m, ...scenario } = v1['scenario'] as Record<string, unknown>;
      return { ...v1, schemaVersion: 1, ledger, scenario };
    });
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

describe('vigil compare: this schema, every field it reads', () => {
  it('reads a whole run.json of this schema, by directory or by file', () => {
    const dir = writeSampleRunDir();
    const a = readComparedRun(dir, 'A');
    expect(a.runId).toBe('20261130-120000-sample-abc123');
    expect(readComparedRun(join(dir, 'run.json'), 'A')).toEqual(a);
  });
});
