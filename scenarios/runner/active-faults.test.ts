import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIVE_FAULTS_FILE, ActiveFaults, healLeftovers, type ActiveFaultsRecord } from './active-faults.ts';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A stand-in for a leftover pipeline: its own process group, its command line naming the run's db file. */
function leftoverPipeline(db: string): ChildProcess {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'pipeline', '--db', db], { detached: true, stdio: 'ignore' });
  started.push(c);
  return c;
}

/** A pid that is surely no process now: a child that has exited. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

const exited = (c: ChildProcess): Promise<string | null> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.signalCode) : c.once('exit', (_code, signal) => r(signal))));

function runDir(out: string, id: string): string {
  const d = join(out, id);
  mkdirSync(d, { recursive: true });
  return d;
}

describe('active faults of a run, and vigil heal', () => {
  it('records the pipeline and the faults as the journal goes, and clears the record when the run unwinds', () => {
    const dir = runDir(mkdtempSync(join(tmpdir(), 'vigil-heal-')), 'r1');
    let pid = 111;
    const a = new ActiveFaults(dir, 'r1', () => ({ pid, db: join(dir, 'pipeline.db') }));
    const read = (): ActiveFaultsRecord => JSON.parse(readFileSync(join(dir, ACTIVE_FAULTS_FILE), 'utf8')) as ActiveFaultsRecord;
    expect(read()).toEqual({ runId: 'r1', vigilPid: process.pid, pipeline: { pid: 111, db: join(dir, 'pipeline.db') }, faults: {} });
    a.onJournal({ t: 'fault', at: 1, event: 'start', fault: 'overflow', kind: 'alarm-id-overflow' });
    a.onJournal({ t: 'fault', at: 1, event: 'start', fault: 'cut', kind: 'black-hole', devices: 5 });
    a.onJournal({ t: 'observation', at: 2 });
    expect(read().faults).toEqual({ overflow: 'alarm-id-overflow', cut: 'black-hole' });
    // A process fault's heal is whole; a network fault's heal line names some devices: still active.
    pid = 222;
    a.onJournal({ t: 'fault', at: 3, event: 'heal', fault: 'overflow', kind: 'alarm-id-overflow' });
    a.onJournal({ t: 'fault', at: 3, event: 'heal', fault: 'cut', devices: ['D1'] });
    expect(read()).toMatchObject({ pipeline: { pid: 222 }, faults: { cut: 'black-hole' } });
    a.clear();
    expect(existsSync(join(dir, ACTIVE_FAULTS_FILE))).toBe(false);
    a.onJournal({ t: 'fault', at: 4, event: 'start', fault: 'late', kind: 'latency' });
    expect(existsSync(join(dir, ACTIVE_FAULTS_FILE))).toBe(false);
  });

  it('stops the leftover pipeline of a killed run — and with it the fault modes it held — then clears the record', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vigil-heal-'));
    const dir = runDir(out, 'crashed');
    const db = join(dir, 'pipeline.db');
    const pipeline = leftoverPipeline(db);
    const gone = exited(pipeline);
    const a = new ActiveFaults(dir, 'crashed', () => ({ pid: pipeline.pid!, db }));
    a.onJournal({ t: 'fault', at: 1, event: 'start', fault: 'overflow', kind: 'alarm-id-overflow' });
    // As if written by a Vigil that was killed: its pid no longer lives.
    const record = JSON.parse(readFileSync(join(dir, ACTIVE_FAULTS_FILE), 'utf8')) as ActiveFaultsRecord;
    writeFileSync(join(dir, ACTIVE_FAULTS_FILE), JSON.stringify({ ...record, vigilPid: await deadPid() }));

    expect(healLeftovers(out)).toEqual([`run crashed: stopped its leftover reference pipeline (pid ${pipeline.pid}), and with it the faults it held: overflow (alarm-id-overflow)`]);
    expect(await gone).toBe('SIGKILL');
    expect(existsSync(join(dir, ACTIVE_FAULTS_FILE))).toBe(false);
    expect(healLeftovers(out)).toEqual([]);
  });

  it('leaves a running run alone, and never signals a process that is not the run\'s pipeline', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vigil-heal-'));
    // A run still going: its Vigil process lives (a stand-in whose command line names vigil).
    const running = runDir(out, 'running');
    const vigil = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'vigil', 'run'], { stdio: 'ignore' });
    started.push(vigil);
    writeFileSync(join(running, ACTIVE_FAULTS_FILE), JSON.stringify({ runId: 'running', vigilPid: vigil.pid, faults: {} }));
    // A crashed run whose pipeline pid now belongs to another program (its command line lacks the run's db).
    const reused = runDir(out, 'reused');
    const other = leftoverPipeline(join(out, 'another.db'));
    writeFileSync(join(reused, ACTIVE_FAULTS_FILE), JSON.stringify({ runId: 'reused', vigilPid: await deadPid(), pipeline: { pid: other.pid, db: join(reused, 'pipeline.db') }, faults: { cut: 'black-hole' } }));

    expect(healLeftovers(out).sort()).toEqual([
      `run reused: its reference pipeline is gone (pid ${other.pid} is now another program's: left alone); cut (black-hole) ended with its processes`,
      `run running: still running (Vigil pid ${vigil.pid}); left alone`,
    ]);
    expect(other.exitCode === null && other.signalCode === null).toBe(true);
    expect(existsSync(join(running, ACTIVE_FAULTS_FILE))).toBe(true);
    expect(existsSync(join(reused, ACTIVE_FAULTS_FILE))).toBe(false);
  });

  it('stops a killed run\'s leftover mosquitto (--mosquitto) with SIGTERM, and only if it still runs that run\'s config', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vigil-heal-'));
    const dir = runDir(out, 'crashed-broker');
    const conf = join(dir, 'mosquitto', 'mosquitto.conf');
    // A stand-in for mosquitto: its command line names the run's config, as `mosquitto -c <conf>` does.
    const broker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'mosquitto', '-c', conf], { stdio: 'ignore' });
    started.push(broker);
    const gone = exited(broker);
    const a = new ActiveFaults(dir, 'crashed-broker', () => undefined, () => ({ pid: broker.pid, conf }));
    a.refresh();
    const record = JSON.parse(readFileSync(join(dir, ACTIVE_FAULTS_FILE), 'utf8')) as ActiveFaultsRecord;
    expect(record.broker).toEqual({ pid: broker.pid, conf });
    const killed = { ...record, vigilPid: await deadPid() };
    // Another run's record naming the same pid with another config: never signalled for it.
    const elsewhere = mkdtempSync(join(tmpdir(), 'vigil-heal-'));
    const other = runDir(elsewhere, 'other');
    writeFileSync(join(other, ACTIVE_FAULTS_FILE), JSON.stringify({ runId: 'other', vigilPid: await deadPid(), broker: { pid: broker.pid, conf: join(other, 'mosquitto', 'mosquitto.conf') }, faults: {} }));
    expect(healLeftovers(elsewhere)).toEqual([`run other: its mosquitto is gone (pid ${broker.pid} is now another program's: left alone)`]);
    expect(broker.exitCode === null && broker.signalCode === null).toBe(true);

    writeFileSync(join(dir, ACTIVE_FAULTS_FILE), JSON.stringify(killed));
    expect(healLeftovers(out)).toEqual([`run crashed-broker: stopped its leftover mosquitto (pid ${broker.pid})`]);
    expect(await gone).toBe('SIGTERM');
    expect(existsSync(join(dir, ACTIVE_FAULTS_FILE))).toBe(false);
  });
});
