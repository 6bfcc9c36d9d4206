/**
 * Records sent vs stored per virtual minute, as a chart draws them: one entry per minute with its
 * counts, and the totals. Pure, so the report and the live dashboard draw the same thing — the
 * report from run.json `records` (or, for a run.json written before it, the journal's `records`
 * lines), the dashboard from the fleet's live counts (sim/record-minutes.ts), which have this shape.
 */
import type { RecordMinuteCounts } from '../../protocol/record-minutes.ts';
import type { RecordsPerMinute } from '../run-result.ts';
import type { JournalLine } from '../run-dir.ts';

export interface RecordMinute {
  /** Virtual ms at the minute's start. */
  readonly from: number;
  readonly sent: number;
  readonly resent: number;
  readonly stored: number;
}

export interface RecordSeries {
  readonly minuteMs: number;
  readonly from: number;
  /** Virtual ms at the end of the last minute. */
  readonly until: number;
  readonly minutes: readonly RecordMinute[];
  readonly totals: { readonly sent: number; readonly resent: number; readonly stored: number };
}

/** run.json's `records` (from: ISO time) or the fleet's live counts (from: virtual ms). */
export type RecordCounts = RecordMinuteCounts<string | number>;

export function recordSeries(c: RecordCounts): RecordSeries {
  const from = typeof c.from === 'number' ? c.from : Date.parse(c.from);
  const length = Math.max(c.sent.length, c.resent.length, c.stored.length);
  const minutes = Array.from({ length }, (_, i): RecordMinute => ({
    from: from + i * c.minuteMs, sent: c.sent[i] ?? 0, resent: c.resent[i] ?? 0, stored: c.stored[i] ?? 0,
  }));
  const total = (k: 'sent' | 'resent' | 'stored'): number => minutes.reduce((n, m) => n + m[k], 0);
  return { minuteMs: c.minuteMs, from, until: from + Math.max(1, length) * c.minuteMs, minutes, totals: { sent: total('sent'), resent: total('resent'), stored: total('stored') } };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * The journal's `records` lines (verify/journal.ts), one per minute, as run.json would have them;
 * undefined when the journal has none (a run of a Vigil before them, or one that ended in its first minute).
 */
export function recordsFromJournal(journal: readonly JournalLine[], minuteMs = 60_000): RecordsPerMinute | undefined {
  const lines = journal.filter((l) => l.t === 'records' && isCount(l['minute']) && typeof l['from'] === 'number' && isCount(l['sent']) && isCount(l['resent']) && isCount(l['stored']));
  const first = lines.find((l) => l['minute'] === 0) ?? lines[0];
  if (!first) return undefined;
  const start = (first['from'] as number) - (first['minute'] as number) * minuteMs;
  const length = Math.max(...lines.map((l) => (l['minute'] as number) + 1));
  const sent = new Array<number>(length).fill(0);
  const resent = new Array<number>(length).fill(0);
  const stored = new Array<number>(length).fill(0);
  // The fleet's worst wake lag per minute: journaled since issue 7, so only when every line has it.
  const lagMs = lines.every((l) => typeof l['lagMs'] === 'number' && l['lagMs'] >= 0) ? new Array<number>(length).fill(0) : undefined;
  for (const l of lines) {
    const m = l['minute'] as number;
    sent[m] = l['sent'] as number;
    resent[m] = l['resent'] as number;
    stored[m] = l['stored'] as number;
    if (lagMs) lagMs[m] = l['lagMs'] as number;
  }
  return { from: new Date(start).toISOString(), minuteMs, sent, resent, stored, ...(lagMs ? { lagMs } : {}) };
}
