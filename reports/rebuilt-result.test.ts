import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALARM_KINDS } from '../protocol/alarms.ts';
import { Journal } from '../verify/journal.ts';
import { JOURNAL_SCHEMA, type RunHeader } from '../verify/journal-header.ts';
import { readJournal } from '../verify/journal-read.ts';
import { rebuildFromJournal } from '../verify/rebuild.ts';
import { rebuiltRunResult } from './rebuilt-result.ts';

const T0 = Date.parse('2021-10-25T12:00:00Z');
const MIN = 60_000;
// DOMAIN.md's service levels: a tamper within 3 minutes, every other alarm within 4.
const SLA = Object.fromEntries(ALARM_KINDS.map((k) => [k, k === 'strap_tamper' ? 180_000 : 240_000])) as RunHeader['slaMs'];

const header: RunHeader = {
  t: 'run', at: T0, journalSchema: JOURNAL_SCHEMA, runId: 'r1', vigilVersion: '0.1.0', command: 'npx vigil run x.scenario.ts', startedAt: '2026-12-01T11:00:00.000Z',
  scenario: { name: 'x', file: 'x.scenario.ts', sha256: 'ab', seed: 1, speed: 60, devices: 1, mix: { pse: 0, psem: 1, bar: 0 }, start: new Date(T0).toISOString(), end: new Date(T0 + 20 * MIN).toISOString() },
  window: { start: T0, end: T0 + 20 * MIN }, slaMs: SLA, offlineTimeoutMs: 10 * MIN, lateAllowanceMs: 10 * MIN, toleranceMs: MIN,
  mass: { share: 0.1, minDevices: 5 }, faults: [], processFaults: [], devices: [['D1', 'psem', 'op']], barPairs: [], hil: [],
  broker: { kind: 'embedded-aedes', url: 'mqtt://127.0.0.1:1883' }, pipeline: { kind: 'reference-child', url: 'http://127.0.0.1:8080' },
};

describe('run.json rebuilt by vigil verify', () => {
  it('keeps the records per minute and judges the harness pace from the journal, as the run would have', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-rebuilt-')), 'journal.jsonl');
    const j = new Journal(file, header);
    const late = { deviceId: 'D1', kind: 'exclusion_zone_entry' as const, seq: 3, deviceTime: T0 + 10 * MIN, triggerTime: T0 + 10 * MIN, zoneId: 'Z-1' };
    j.append({ t: 'expectation', at: late.triggerTime, ...late });
    j.append({ t: 'observation', at: late.triggerTime + 6 * MIN, type: 'alarm', cursor: 1, alarmId: 'A1', ...late, raisedAt: late.triggerTime });
    // The harness 2 s behind in minute 12 (120 s virtual at speed 60, over the 30-s limit), 20 ms otherwise.
    for (let m = 0; m < 20; m++) j.append({ t: 'records', at: T0 + (m + 1) * MIN, minute: m, from: T0 + m * MIN, sent: 5, resent: 0, stored: 5, lagMs: m === 12 ? 2000 : 20 });
    j.append({ t: 'event', at: T0 + 25 * MIN, event: 'final-read', judgedEnd: T0 + 20 * MIN, summary: { runId: 'r1', devices: {} }, devices: [] });
    j.close();
    const contents = await readJournal(file);
    const run = rebuiltRunResult(contents, rebuildFromJournal(contents));
    expect(run.records?.lagMs).toHaveLength(20);
    expect(run.records?.sent.reduce((n, x) => n + x, 0)).toBe(100);
    expect(run.harness).toMatchObject({
      lagMaxMs: 2000, limitMs: 30_000, behindMinutes: 1, failures: 1, failuresWhileBehind: 1,
      behind: [{ from: '2021-10-25T12:12:00.000Z', until: '2021-10-25T12:13:00.000Z', lagMaxMs: 2000 }],
    });
  });
});
