import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FeedAlarm } from '../protocol/feed.ts';
import { DEFAULT_SLA_MS } from '../sim/model/defaults.ts';
import type { Expectation } from '../sim/model/oracle/oracle.ts';
import { judge } from './judge.ts';
import { Journal } from './journal.ts';
import { JOURNAL_SCHEMA, type RunHeader } from './journal-header.ts';
import { readJournal } from './journal-read.ts';
import { rebuildFromJournal } from './rebuild.ts';

const T0 = Date.parse('2021-10-25T12:00:00Z');
const MIN = 60_000;
const sla = { ...DEFAULT_SLA_MS, exclusion_zone_entry: 4 * MIN };

const header = (over: Partial<RunHeader> = {}): RunHeader => ({
  t: 'run', at: T0, journalSchema: JOURNAL_SCHEMA, runId: 'r1', vigilVersion: '0.1.0', command: 'npx vigil run x.scenario.ts', startedAt: '2026-11-30T17:00:00.000Z',
  scenario: { name: 'x', file: 'x.scenario.ts', sha256: 'ab', seed: 1, speed: 60, devices: 3, mix: { pse: 0, psem: 3, bar: 0 }, start: new Date(T0).toISOString(), end: new Date(T0 + 60 * MIN).toISOString() },
  window: { start: T0, end: T0 + 60 * MIN }, slaMs: sla, offlineTimeoutMs: 10 * MIN, lateAllowanceMs: 10 * MIN, toleranceMs: MIN,
  mass: { share: 0.1, minDevices: 5 }, faults: [], processFaults: [],
  devices: [['D1', 'psem', 'op'], ['D2', 'psem', 'op'], ['D3', 'psem', 'op']], barPairs: [], hil: [],
  broker: { kind: 'embedded-aedes', url: 'mqtt://127.0.0.1:1883' }, pipeline: { kind: 'reference-child', url: 'http://127.0.0.1:8080' },
  ...over,
});

const exp = (deviceId: string, seq: number, t: number): Expectation => ({ deviceId, kind: 'exclusion_zone_entry', seq, deviceTime: t, triggerTime: t, zoneId: `Z-${deviceId}` });
let cursor = 0;
const alarm = (e: Expectation): FeedAlarm => ({ type: 'alarm', cursor: ++cursor, alarmId: `A${cursor}`, deviceId: e.deviceId, kind: e.kind, seq: e.seq, deviceTime: e.deviceTime, raisedAt: e.triggerTime, zoneId: e.zoneId });

/** A journal written by the run's own Journal class, as a run writes it. */
function journalOf(lines: (j: Journal) => void, h: RunHeader = header()): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vigil-rebuild-')), 'journal.jsonl');
  const j = new Journal(file, h);
  lines(j);
  j.close();
  return file;
}

describe('vigil verify: the ledger rebuilt from the journal', () => {
  it('of a finished run, judges exactly as the live run did', async () => {
    const a = exp('D1', 1, T0 + 5 * MIN);
    const b = exp('D2', 1, T0 + 10 * MIN);
    const file = journalOf((j) => {
      for (const e of [a, b]) j.append({ t: 'expectation', at: e.triggerTime, ...e });
      j.append({ t: 'observation', at: a.triggerTime + 20_000, ...alarm(a) });
      j.append({ t: 'observation', at: b.triggerTime + 5 * MIN, ...alarm(b) }); // late: SLA 4 min
      j.append({ t: 'event', at: T0 + 70 * MIN, event: 'final-read', judgedEnd: T0 + 60 * MIN, summary: { runId: 'r1', devices: {} }, devices: [] });
    });
    const contents = await readJournal(file);
    const r = rebuildFromJournal(contents);
    const live = judge({
      faults: [], watched: new Set(), episodes: [], heal: () => undefined, operatorOf: new Map(), partnerOf: new Map(),
      expectations: contents.expectations, observations: contents.observations, offlineTimeoutMs: 10 * MIN, toleranceMs: MIN, lateAllowanceMs: 10 * MIN,
      window: { start: T0, end: T0 + 60 * MIN }, finalAt: T0 + 70 * MIN, mass: { share: 0.1, minDevices: 5 }, slaMs: sla,
      deviceTypes: new Map([['D1', 'psem'], ['D2', 'psem'], ['D3', 'psem']]), devices: [], summary: { runId: 'r1', devices: {} },
    });
    expect(r.judgement.ledger.counts).toEqual(live.ledger.counts);
    expect(r.judgement.ledger.counts).toMatchObject({ expected: 2, onTime: 1, late: 1, dropped: 0 });
    expect(r.span).toEqual({ from: T0, to: T0 + 70 * MIN, runEnded: true });
    expect(r.checks.find((c) => c.name === 'the run finished')).toMatchObject({ passed: true, summary: expect.stringMatching(/^the run ended at 2021-10-25T13:10:00.000Z/) });
    expect(r.verdict).toBe('FAIL');
    expect(r.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['no late alarms', 'latency exclusion_zone_entry']);
  });

  it('of a run killed mid-way: the span it covers, pending alarms unknown (not dropped), unmatched ones not spurious, a torn last line tolerated', async () => {
    const onTime = exp('D1', 1, T0 + 5 * MIN);
    const overdue = exp('D2', 1, T0 + 10 * MIN); // due by +14 min, unseen at +20 min: late at least
    const pending = exp('D3', 1, T0 + 18 * MIN); // due by +22 min: unknown at +20 min
    const ahead = exp('D3', 2, T0 + 19 * MIN); // observed, its expectation lost with the crash
    const file = journalOf((j) => {
      for (const e of [onTime, overdue, pending]) j.append({ t: 'expectation', at: e.triggerTime, ...e });
      j.append({ t: 'observation', at: onTime.triggerTime + 30_000, ...alarm(onTime) });
      j.append({ t: 'observation', at: T0 + 20 * MIN, ...alarm(ahead) });
    });
    appendFileSync(file, '{"t":"observation","at":163516'); // kill mid-write
    const contents = await readJournal(file);
    expect(contents).toMatchObject({ badLines: 1, tornTail: true, finalRead: undefined });
    const r = rebuildFromJournal(contents);
    expect(r.span).toEqual({ from: T0, to: T0 + 20 * MIN, runEnded: false });
    expect(r.pending).toEqual([pending]);
    expect(r.unmatched.map((o) => o.alarm.seq)).toEqual([2]);
    expect(r.judgement.ledger.counts).toMatchObject({ expected: 2, onTime: 1, dropped: 1, spurious: 0 });
    const overdueEntry = r.failures.find((f) => f.deviceId === 'D2')!;
    expect(overdueEntry.detail).toMatch(/had not reached the operator feed when the journal stops \(2021-10-25T12:20:00.000Z\), past its deadline: late at least/);
    expect(r.checks.find((c) => c.name === 'no dropped alarms')!.items).toEqual([overdueEntry.detail]);
    const finished = r.checks.find((c) => c.name === 'the run finished')!;
    expect(finished.passed).toBe(false);
    expect(finished.summary).toMatch(/^the journal stops at 2021-10-25T12:20:00.000Z: the run did not finish.*1 expected alarms were pending at the crash \(unknown\), 1 observed alarms matched no expectation/);
    expect(finished.items).toEqual([
      expect.stringMatching(/^pending at the crash: exclusion_zone_entry of D3 \(seq 1/),
      expect.stringMatching(/^unmatched at the crash: exclusion_zone_entry of D3 \(seq 2/),
    ]);
    expect(r.checks.some((c) => c.name === 'position history complete')).toBe(false);
    expect(r.omitted).toEqual(['position completeness: the run did not reach its final read']);
  });

  it('never passes a run that did not finish, though nothing it judged failed', async () => {
    const a = exp('D1', 1, T0 + 5 * MIN);
    const file = journalOf((j) => {
      j.append({ t: 'expectation', at: a.triggerTime, ...a });
      j.append({ t: 'observation', at: a.triggerTime + 1000, ...alarm(a) });
    });
    const r = rebuildFromJournal(await readJournal(file));
    expect(r.judgement.ledger.failures).toEqual([]);
    expect(r.verdict).toBe('FAIL');
    expect(r.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['the run finished', 'rebuilt from the journal alone']);
  });

  it('names what a faulted run cannot rebuild, and leaves out the absence alarms the proxies judged', async () => {
    const loss: Expectation = { deviceId: 'D1', kind: 'communication_loss', seq: 3, deviceTime: T0 + MIN, triggerTime: T0 + 11 * MIN };
    const h = header({ faults: [{ name: 'cut', kind: 'black-hole', from: T0, until: T0 + 20 * MIN, devices: ['D1'], healAt: [['D1', T0 + 20 * MIN]] }] });
    const file = journalOf((j) => {
      j.append({ t: 'fault', at: T0, event: 'start', fault: 'cut', kind: 'black-hole', devices: 1 });
      j.append({ t: 'observation', at: T0 + 12 * MIN, ...alarm(loss) });
      j.append({ t: 'event', at: T0 + 70 * MIN, event: 'final-read', judgedEnd: T0 + 60 * MIN, summary: { runId: 'r1', devices: {} }, devices: [] });
    }, h);
    const r = rebuildFromJournal(await readJournal(file));
    expect(r.judgement.ledger.counts.spurious).toBe(0);
    expect(r.omitted).toEqual([expect.stringMatching(/communication_loss of the 1 devices a fault touched.*not journaled/)]);
    expect(r.checks.find((c) => c.name === 'rebuilt from the journal alone')).toMatchObject({ passed: false });
  });

  it('refuses what it cannot verify, saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rebuild-'));
    await expect(readJournal(join(dir, 'journal.jsonl'))).rejects.toMatchObject({ code: 'VIGIL_RUN_NOT_FOUND', message: expect.stringMatching(/no journal at/) });
    writeFileSync(join(dir, 'empty.jsonl'), '');
    await expect(readJournal(join(dir, 'empty.jsonl'))).rejects.toMatchObject({ message: expect.stringMatching(/is empty: the run stopped before it journaled anything/) });
    writeFileSync(join(dir, 'old.jsonl'), '{"t":"expectation","at":1}\n');
    await expect(readJournal(join(dir, 'old.jsonl'))).rejects.toMatchObject({ message: expect.stringMatching(/does not start with a run header/) });
    writeFileSync(join(dir, 'next.jsonl'), `${JSON.stringify({ ...header(), journalSchema: 99 })}\n`);
    await expect(readJournal(join(dir, 'next.jsonl'))).rejects.toMatchObject({ message: expect.stringMatching(/is journal schema 99; this Vigil reads schema 1/) });
  });
});
