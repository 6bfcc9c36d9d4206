/**
 * Everything report.html is drawn from, read from a run directory (DESIGN.md "Run output"):
 * run.json (required, this schema), journal.jsonl, provisioning.json and the HIL byte logs
 * (each optional: without one, the parts that need it are left out and the page says why).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../../protocol/errors.ts';
import { Provisioning } from '../../protocol/provisioning.ts';
import { fileLines } from './file-lines.ts';
import { fillOlderSchema } from './older-schema.ts';
import { SCHEMA_VERSION, type RunResult } from '../run-result.ts';

/** A journal line the report uses: its kind, virtual time and the rest of its fields. */
export interface JournalLine {
  readonly t: string;
  readonly at: number;
  readonly [k: string]: unknown;
}

/** The first and last lines of a real device's byte log. */
export interface ByteLogExcerpt {
  readonly file: string;
  readonly lines: number;
  readonly head: readonly string[];
  readonly tail: readonly string[];
}

export interface RunDir {
  readonly dir: string;
  readonly run: RunResult;
  /** undefined: no journal.jsonl in the directory. */
  readonly journal: readonly JournalLine[] | undefined;
  readonly provisioning: Provisioning | undefined;
  /** By device id; a device whose log is missing has none. */
  readonly byteLogs: ReadonlyMap<string, ByteLogExcerpt>;
  /** What could not be read, for a person: shown on the page and by `vigil report`. */
  readonly notes: readonly string[];
}

/** Lines of a byte log shown at each end. */
const EXCERPT_LINES = 5;

/** The fields every part of the report reads: a run.json without one of them cannot be drawn. */
const REQUIRED = ['runId', 'verdict', 'scenario', 'ledger', 'perKind', 'perDeviceType', 'latencyMs', 'latencyUnderFaultMs', 'failures', 'lateAllowed', 'faults', 'checks', 'completeness', 'absence'] as const;

const invalid = (message: string, fix: string): VigilError => new VigilError('VIGIL_RUN_DIR_INVALID', message, fix);

function readRunJson(dir: string, notes: string[]): RunResult {
  const file = join(dir, 'run.json');
  if (!existsSync(file)) {
    throw invalid(`${dir} has no run.json: the run did not reach its verdict, or this is not a run directory`, 'give a runs/<run-id> folder of a run that finished (its journal.jsonl alone cannot be reported on yet)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid(`${file} is not valid JSON (${(err as Error).message})`, 'the file was cut short or edited: run the scenario again');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid(`${file} is not a run.json object`, 'run the scenario again');
  let raw = parsed as Record<string, unknown>;
  const version = raw['schemaVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > SCHEMA_VERSION) {
    throw invalid(`${file} has schema version ${JSON.stringify(version)}; this Vigil reports on schemas 1 to ${SCHEMA_VERSION}`, 'report it with the Vigil that wrote it, or run the scenario again with this one (its command line is in run.json "command")');
  }
  if (version < SCHEMA_VERSION) raw = fillOlderSchema(raw, version, SCHEMA_VERSION, notes);
  const missing = REQUIRED.filter((k) => !(k in raw));
  if (missing.length > 0) throw invalid(`${file} lacks ${missing.join(', ')}`, 'the file is partial or was edited: run the scenario again');
  return raw as unknown as RunResult;
}

/** Journal lines the report draws from; the rest (network events, run events) is left on disk. */
const DRAWN = new Set(['expectation', 'observation', 'fault', 'records']);
/** Bad lines are counted, not fatal: a run that crashed mid-write leaves a torn last line. */
function readJournal(dir: string, notes: string[]): JournalLine[] | undefined {
  const file = join(dir, 'journal.jsonl');
  if (!existsSync(file)) {
    notes.push('journal.jsonl is missing: the alarms-per-minute and pending-alarms charts are left out');
    return undefined;
  }
  const lines: JournalLine[] = [];
  let bad = 0;
  for (const text of fileLines(file)) {
    if (text.trim() === '') continue;
    try {
      const line = JSON.parse(text) as Partial<JournalLine>;
      if (typeof line.t !== 'string' || typeof line.at !== 'number') bad++;
      else if (DRAWN.has(line.t)) lines.push(line as JournalLine);
    } catch {
      bad++;
    }
  }
  if (bad > 0) notes.push(`journal.jsonl: ${bad} line${bad === 1 ? '' : 's'} could not be read and ${bad === 1 ? 'is' : 'are'} left out of the charts`);
  return lines;
}

function readProvisioning(dir: string, notes: string[]): Provisioning | undefined {
  const file = join(dir, 'provisioning.json');
  if (!existsSync(file)) {
    notes.push('provisioning.json is missing: the map shows no devices');
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    notes.push('provisioning.json is not valid JSON: the map shows no devices');
    return undefined;
  }
  const parsed = Provisioning.safeParse(raw);
  if (!parsed.success) {
    notes.push(`provisioning.json does not match the provisioning contract (${parsed.error.issues[0]?.message ?? 'invalid'}): the map shows no devices`);
    return undefined;
  }
  return parsed.data;
}

function readByteLogs(dir: string, run: RunResult, notes: string[]): Map<string, ByteLogExcerpt> {
  const logs = new Map<string, ByteLogExcerpt>();
  for (const d of run.hil?.devices ?? []) {
    const file = join(dir, d.byteLog);
    if (!existsSync(file)) {
      notes.push(`${d.byteLog} (the byte log of ${d.deviceId}) is missing`);
      continue;
    }
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    const head = lines.slice(0, EXCERPT_LINES);
    logs.set(d.deviceId, { file: d.byteLog, lines: lines.length, head, tail: lines.slice(Math.max(head.length, lines.length - EXCERPT_LINES)) });
  }
  return logs;
}

export function readRunDir(dir: string): RunDir {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw invalid(`no run directory at ${dir}`, 'give the runs/<run-id> folder a `vigil run` wrote (ls runs/)');
  }
  const notes: string[] = [];
  const run = readRunJson(dir, notes);
  const journal = readJournal(dir, notes);
  const provisioning = readProvisioning(dir, notes);
  const byteLogs = readByteLogs(dir, run, notes);
  return { dir, run, journal, provisioning, byteLogs, notes };
}
