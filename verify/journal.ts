/**
 * journal.jsonl: an append-only record of expectations, observations and run events as they happen,
 * so a run that crashed can still be verified (DESIGN.md "Run output", `vigil verify`). Its first
 * line is the run's header (verify/journal-header.ts), written at once; the rest is buffered and
 * appended in batches every 200 ms, before the final read, and on close.
 *
 * What a kill -9 loses: the lines of the batch not yet appended — at most the last 200 ms of real
 * time (200 ms × speed of virtual time). appendFileSync hands each batch to the kernel in one write,
 * so a killed process rarely leaves a torn line — a very large batch, or a machine that loses power,
 * may — and the reader (verify/journal-read.ts) counts a torn line and leaves it out. An observation is appended here before the
 * run's ledger counts it (scenarios/runner/feed-watch.ts), and the ledger is built only after a
 * flush, so run.json never counts what the journal lacks.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { RunHeader } from './journal-header.ts';

export type JournalEntry =
  | { readonly t: 'expectation'; readonly at: number; readonly [k: string]: unknown }
  | { readonly t: 'observation'; readonly at: number; readonly [k: string]: unknown }
  | { readonly t: 'event'; readonly at: number; readonly [k: string]: unknown }
  /** A fault started or was healed for some devices (at: virtual ms). */
  | { readonly t: 'fault'; readonly at: number; readonly [k: string]: unknown }
  /** A connection-level fact a fault caused (sim/network events; at: virtual ms). */
  | { readonly t: 'network'; readonly at: number; readonly [k: string]: unknown }
  /**
   * Records the fleet sent for the first time, sent again, and got acknowledged as stored in one
   * virtual minute (minute: its index from the timeline's start; from: its start, virtual ms), written
   * once the minute is over (scenarios/runner/record-journal.ts); lagMs: the fleet's worst wake lag in
   * it, real ms (since issue 7's harness pace).
   */
  | { readonly t: 'records'; readonly at: number; readonly minute: number; readonly from: number; readonly sent: number; readonly resent: number; readonly stored: number; readonly lagMs?: number }
  /** The run's header: the journal's first line. */
  | RunHeader;

export class Journal {
  private buffer: string[] = [];
  private readonly timer: NodeJS.Timeout;

  /** `header`: written synchronously as the first line, so even a run killed at once can be identified. */
  /** `onEntry`: sees every entry as it is appended (scenarios/runner/active-faults.ts follows the faults). */
  constructor(private readonly file: string, header?: RunHeader, private readonly onEntry?: (entry: JournalEntry) => void) {
    writeFileSync(file, header ? `${JSON.stringify(header)}\n` : '');
    this.timer = setInterval(() => this.flush(), 200);
    this.timer.unref();
  }

  append(entry: JournalEntry): void {
    this.buffer.push(JSON.stringify(entry));
    this.onEntry?.(entry);
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('\n') + '\n';
    this.buffer = [];
    appendFileSync(this.file, text);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
