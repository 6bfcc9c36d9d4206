/**
 * Reads journal.jsonl back for `vigil verify` (verify/rebuild.ts): the header, then expectations,
 * observations, fault events and the final read, in the order they were written. A line that cannot
 * be read — a torn last line when the machine died mid-write — is counted, never fatal. Read line by
 * line (node:readline): a long run's journal is larger than the largest string V8 makes.
 *
 * Independent of reports/ (which draws the charts from the same file): verify/ sits below reports.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { IngestSummary } from '../protocol/provisioning.ts';
import type { FeedAlarm } from '../protocol/feed.ts';
import { VigilError } from '../protocol/errors.ts';
import type { Expectation } from '../sim/model/oracle/oracle.ts';
import type { DeviceRecordState } from './completeness.ts';
import { JOURNAL_SCHEMA, type RunHeader } from './journal-header.ts';
import type { Observation } from './ledger.ts';
import type { FeedHealth } from './verdict.ts';
import { MALFORMED_SAMPLES } from './feed-consumer.ts';

/** A `fault` line: a fault started, was healed for some devices, or moved their DNS. */
export interface FaultEvent {
  readonly event: string;
  readonly at: number;
  readonly fault: string;
  /** A heal or dns line: the devices it names. */
  readonly devices?: readonly string[] | number;
}

/** The `final-read` event: the run reached its verdict step, and what completeness is judged from. */
export interface FinalRead {
  readonly at: number;
  readonly judgedEnd: number;
  readonly summary: IngestSummary;
  readonly devices: readonly DeviceRecordState[];
}

/** A journal line whose kind and virtual time were checked: the rest of its fields as written (reports read them too). */
export interface JournalLine {
  readonly t: string;
  readonly at: number;
  readonly [k: string]: unknown;
}

export interface JournalContents {
  readonly header: RunHeader;
  readonly expectations: Expectation[];
  readonly observations: Observation[];
  readonly faultEvents: FaultEvent[];
  readonly finalRead: FinalRead | undefined;
  /** Feed messages the run could not read (`feed-malformed` events), the first few named. */
  readonly feed: FeedHealth;
  /** The `records` lines, one per virtual minute (records sent, resent, stored, and the fleet's lag), as journaled. */
  readonly recordLines: readonly JournalLine[];
  /** Virtual ms of the latest expectation, observation, fault or network line: where the journal stops. */
  readonly lastAt: number;
  /** Lines that could not be read (JSON cut short, or not a journal line). */
  readonly badLines: number;
  /** True when the last line was the bad one: a write torn by a crash. */
  readonly tornTail: boolean;
}

// The same codes as the run-directory reader (reports/run-dir.ts): not there, another schema, not a journal.
const invalid = (message: string, fix: string, code: 'VIGIL_RUN_NOT_FOUND' | 'VIGIL_RUN_SCHEMA' | 'VIGIL_RUN_INVALID' = 'VIGIL_RUN_INVALID'): VigilError => new VigilError(code, message, fix);

function checkHeader(file: string, first: unknown): RunHeader {
  const h = first as Partial<RunHeader> | undefined;
  if (h?.t !== 'run') {
    throw invalid(`${file} does not start with a run header: it was written by a Vigil older than the crash-safe journal, or is not a journal`, 'verify the run with the Vigil that ran it, or run the scenario again');
  }
  if (h.journalSchema !== JOURNAL_SCHEMA) {
    throw invalid(`${file} is journal schema ${JSON.stringify(h.journalSchema)}; this Vigil reads schema ${JOURNAL_SCHEMA}`, `verify it with the Vigil that wrote it (${String(h.vigilVersion)}), or run the scenario again`, 'VIGIL_RUN_SCHEMA');
  }
  return h as RunHeader;
}

/** Everything a journal line is besides its `t` and `at`. */
function body<T>(line: Record<string, unknown>): T {
  const { t: _t, at: _at, ...rest } = line;
  return rest as T;
}

export async function readJournal(file: string): Promise<JournalContents> {
  if (!existsSync(file)) throw invalid(`no journal at ${file}`, 'give the runs/<run-id> folder a `vigil run` wrote (ls runs/); a run journals from the moment its pipeline answers', 'VIGIL_RUN_NOT_FOUND');
  if (statSync(file).size === 0) throw invalid(`${file} is empty: the run stopped before it journaled anything`, 'nothing was expected or observed to verify; run the scenario again');
  let header: RunHeader | undefined;
  const expectations: Expectation[] = [];
  const observations: Observation[] = [];
  const faultEvents: FaultEvent[] = [];
  const recordLines: JournalLine[] = [];
  let finalRead: FinalRead | undefined;
  const feed = { malformed: 0, malformedSamples: [] as string[] };
  let lastAt = -Infinity;
  let badLines = 0;
  let lastBad = false;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    if (text.trim() === '') continue;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = {};
    }
    if (header === undefined) {
      header = checkHeader(file, line);
      continue;
    }
    const at = line['at'];
    lastBad = typeof line['t'] !== 'string' || typeof at !== 'number';
    if (lastBad) {
      badLines++;
      continue;
    }
    const t = line['t'] as string;
    if (t === 'expectation') expectations.push(body<Expectation>(line));
    else if (t === 'observation') observations.push({ alarm: body<FeedAlarm>(line), receivedAt: at as number });
    else if (t === 'fault') faultEvents.push(line as unknown as FaultEvent);
    else if (t === 'records') recordLines.push(line as JournalLine); // t and at checked above
    else if (t === 'event' && line['event'] === 'final-read') finalRead = line as unknown as FinalRead;
    else if (t === 'event' && line['event'] === 'feed-malformed') {
      feed.malformed++;
      if (feed.malformedSamples.length < MALFORMED_SAMPLES) feed.malformedSamples.push(`${String(line['reason'])}: ${String(line['raw'])}`);
    }
    // Run events other than the final read carry real time (provisioned), or nothing the span needs.
    if (t === 'expectation' || t === 'observation' || t === 'fault' || t === 'network') lastAt = Math.max(lastAt, at as number);
  }
  if (header === undefined) throw invalid(`${file} holds no line`, 'run the scenario again');
  return { header, expectations, observations, faultEvents, finalRead, feed, recordLines, lastAt: Math.max(lastAt, header.window.start), badLines, tornTail: lastBad };
}
