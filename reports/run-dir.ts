/**
 * The one reader of a run directory (DESIGN.md "Run output": runs/<run-id>/ with run.json,
 * journal.jsonl, provisioning.json, HIL byte logs), for both of its readers:
 *
 *   - `vigil report` (readRunDir): regenerates what it can — run.json of this schema or an older one
 *     (what an older one did not record yet is shown empty and named), and whatever of the journal,
 *     provisioning and byte logs is there; what is missing is said in `notes`, not fatal;
 *   - `vigil compare` (readComparedRun): run.json of this schema only, every field a comparison
 *     reads checked (zod) — it refuses what it cannot compare rather than compare half a run.
 *
 * Either takes a runs/<run-id> directory or its run.json. What stops them is one set of errors, each
 * with its own code: no such directory (VIGIL_RUN_NOT_FOUND), no run.json (VIGIL_RUN_UNFINISHED when
 * the journal is there: what it can and cannot give is said), run.json cut short
 * (VIGIL_RUN_TRUNCATED), another schema version (VIGIL_RUN_SCHEMA), a field missing or wrong
 * (VIGIL_RUN_INVALID).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { VigilError } from '../protocol/errors.ts';
import { Provisioning } from '../protocol/provisioning.ts';
import { fileLines } from './file-lines.ts';
import { fillOlderSchema } from './older-schema.ts';
import { SCHEMA_VERSION, type RunResult } from './run-result.ts';
import type { JournalLine } from '../verify/journal-read.ts';

// ---- run.json: where it is, whether it parses, its schema, its fields (both readers) ----

/** Who reads, for the messages: the report takes older schemas, the comparison this one only. */
type Reader = { readonly command: 'report' } | { readonly command: 'compare'; readonly which: 'A' | 'B' };

const RUN_DIR_HINT = 'give the runs/<run-id> directory that `vigil run` printed on its `report:` line (ls runs/), or its run.json';

function label(path: string, reader: Reader): string {
  return reader.command === 'compare' ? `run ${reader.which} (${path})` : path;
}

/** The run directory and its run.json, or the error saying which of them is not there. */
function locate(path: string, reader: Reader): { readonly dir: string; readonly file: string } {
  const where = label(path, reader);
  if (!existsSync(path)) throw new VigilError('VIGIL_RUN_NOT_FOUND', `${where}: no such directory`, RUN_DIR_HINT);
  const isDir = statSync(path).isDirectory();
  if (!isDir && basename(path) !== 'run.json') {
    throw new VigilError('VIGIL_RUN_NOT_FOUND', `${where}: a file, not a run directory`, RUN_DIR_HINT);
  }
  const dir = isDir ? path : dirname(path);
  const file = isDir ? join(path, 'run.json') : path;
  if (existsSync(file)) return { dir, file };
  if (!existsSync(join(dir, 'journal.jsonl'))) {
    throw new VigilError('VIGIL_RUN_NOT_FOUND', `${where}: neither run.json nor journal.jsonl — not a run directory`, RUN_DIR_HINT);
  }
  // A run that crashed or was killed before its verdict: the journal alone cannot make a report or a comparison.
  const cannot = reader.command === 'report'
    ? 'report.html cannot be regenerated from it: the verdict, the ledger, latency, completeness and the header come from the drain and the final read, which this run never reached'
    : 'it cannot be compared: a comparison needs the verdict and the ledger that run.json holds';
  throw new VigilError('VIGIL_RUN_UNFINISHED',
    `${where} has no run.json, only journal.jsonl: the run did not finish. The journal keeps what happened until it stopped (alarms expected and seen, fault events, records per minute, one JSON line each), but ${cannot}`,
    'run the scenario again to completion (same --seed gives the same load); read journal.jsonl by hand for what this run got to');
}

function parseJson(file: string, where: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_RUN_TRUNCATED', `${where}: ${file} is not JSON (${(err as Error).message}): it was cut short or edited`, 'run the scenario again to get a whole run.json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new VigilError('VIGIL_RUN_TRUNCATED', `${where}: ${file} is JSON but not a run.json object`, 'run the scenario again to get a whole run.json');
  }
  return parsed as Record<string, unknown>;
}

/** The schema version, refused unless this reader takes it: the report schemas 1 to current, the comparison the current only. */
function schemaVersion(raw: Record<string, unknown>, where: string, reader: Reader): number {
  const version = raw['schemaVersion'];
  const oldest = reader.command === 'report' ? 1 : SCHEMA_VERSION;
  if (typeof version === 'number' && Number.isInteger(version) && version >= oldest && version <= SCHEMA_VERSION) return version;
  const takes = oldest === SCHEMA_VERSION ? `version ${SCHEMA_VERSION} only` : `versions ${oldest} to ${SCHEMA_VERSION}`;
  const fix = reader.command === 'report'
    ? 'report it with the Vigil that wrote it, or run the scenario again with this one (its command line is in run.json "command")'
    : 'run the scenario again with this Vigil (same --seed), or compare with the Vigil that wrote it';
  throw new VigilError('VIGIL_RUN_SCHEMA', `${where}: run.json has schema version ${JSON.stringify(version) ?? 'none'}, and this Vigil ${reader.command === 'report' ? 'reports on' : 'compares'} ${takes}`, fix);
}

/** The first problems zod found, as `field.path: what` (a missing field reads "expected …, received undefined"). */
function checkFields<T>(schema: z.ZodType<T>, raw: unknown, where: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
  const more = parsed.error.issues.length > 3 ? `; and ${parsed.error.issues.length - 3} more` : '';
  throw new VigilError('VIGIL_RUN_INVALID', `${where}: run.json is missing or has wrong fields (${problems}${more})`, 'the file is partial or was edited: run the scenario again to get a whole run.json');
}

// ---- vigil compare ----

const count = z.number().int().min(0);
const ms = z.number().min(0);
const Counts = z.object({ expected: count, onTime: count, late: count, lateAllowed: count, dropped: count, duplicates: count, spurious: count });
const Latency = z.object({ count, p50: ms, p95: ms, p99: ms, max: ms, slaMs: ms });

/** The part of run.json (reports/run-result.ts) a comparison reads; RunResult is assignable to it. */
export const ComparedRun = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: z.string(),
  vigilVersion: z.string(),
  scenario: z.object({ name: z.string(), sha256: z.string(), seed: z.number(), speed: z.number(), devices: count, start: z.string(), end: z.string() }),
  mode: z.literal('observe').optional(),
  broker: z.object({ kind: z.string(), url: z.string() }),
  pipeline: z.object({ kind: z.string(), url: z.string(), server: z.string().optional() }),
  startedAt: z.string(),
  verdict: z.enum(['PASS', 'FAIL']),
  ledger: Counts,
  latencyMs: z.record(z.string(), Latency),
  latencyUnderFaultMs: z.record(z.string(), Latency),
  completeness: z.object({ recordsMade: count, recordsStored: count, recordsMissing: count }),
  faults: z.array(z.object({
    name: z.string(),
    kind: z.string(),
    absence: z.object({ required: count, onTime: count, late: count, missing: count }),
    timeToDetectMs: ms.nullable(),
    drainMs: ms.nullable(),
  })).readonly(),
  firmware: z.unknown(),
  // Whether the harness kept its clock (verify/harness-pace.ts); absent from a run.json before it.
  harness: z.object({ behindMinutes: count, lagMaxMs: ms }).optional(),
});
export type ComparedRun = z.infer<typeof ComparedRun>;

/** A run for `vigil compare` (a runs/<run-id> directory or its run.json); `which` (A or B) names it in errors. */
export function readComparedRun(path: string, which: 'A' | 'B'): ComparedRun {
  const reader: Reader = { command: 'compare', which };
  const where = label(path, reader);
  const raw = parseJson(locate(path, reader).file, where);
  schemaVersion(raw, where, reader);
  return checkFields(ComparedRun, raw, where);
}

// ---- vigil report ----

/** A journal line the report uses: its kind, virtual time and the rest of its fields (one type with verify/'s reader). */
export type { JournalLine };

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

const object = z.record(z.string(), z.unknown());
/**
 * The sections every part of the report reads, as loosely as drawing them needs (after an older
 * schema's gaps are filled): a run.json without one of them cannot be drawn.
 */
const ReportedRun = z.object({
  runId: z.string(), verdict: z.string(), scenario: z.object({ name: z.string(), start: z.string(), end: z.string() }).passthrough(),
  ledger: object, perKind: object, perDeviceType: object, latencyMs: object, latencyUnderFaultMs: object, completeness: object, absence: object,
  failures: z.array(z.unknown()), lateAllowed: z.array(z.unknown()), faults: z.array(z.unknown()), checks: z.array(z.unknown()),
}).passthrough();

function readRunJson(file: string, where: string, notes: string[]): RunResult {
  const reader: Reader = { command: 'report' };
  let raw = parseJson(file, where);
  const version = schemaVersion(raw, where, reader);
  if (version < SCHEMA_VERSION) raw = fillOlderSchema(raw, version, SCHEMA_VERSION, notes);
  checkFields(ReportedRun, raw, where);
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

/** Everything report.html is drawn from (a runs/<run-id> directory or its run.json); `dir` is the directory. */
export function readRunDir(path: string): RunDir {
  const { dir, file } = locate(path, { command: 'report' });
  const notes: string[] = [];
  const run = readRunJson(file, path, notes);
  const journal = readJournal(dir, notes);
  const provisioning = readProvisioning(dir, notes);
  const byteLogs = readByteLogs(dir, run, notes);
  return { dir, run, journal, provisioning, byteLogs, notes };
}
