/**
 * journal.jsonl: an append-only record of expectations, observations and run events as they happen,
 * so a run that crashed can still be verified (DESIGN.md "Run output"). Lines are buffered and
 * appended in batches every 200 ms and on close.
 */
import { appendFileSync, writeFileSync } from 'node:fs';

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
   * once the minute is over (scenarios/runner/record-journal.ts).
   */
  | { readonly t: 'records'; readonly at: number; readonly minute: number; readonly from: number; readonly sent: number; readonly resent: number; readonly stored: number };

export class Journal {
  private buffer: string[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    writeFileSync(file, '');
    this.timer = setInterval(() => this.flush(), 200);
    this.timer.unref();
  }

  append(entry: JournalEntry): void {
    this.buffer.push(JSON.stringify(entry));
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
