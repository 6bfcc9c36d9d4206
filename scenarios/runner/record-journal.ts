/**
 * Records sent vs stored per virtual minute (sim/record-minutes.ts: the virtual fleet's, and the real
 * gateway devices', summed) into the journal, one line per minute once it is over, so a run that
 * crashed still has them; and into run.json at the end.
 *
 * A minute is journaled one real second after the virtual clock passed its end, not at once: a
 * `--workers` shard reports its counts every 100 ms, so a late ack of that minute may still be on
 * its way. At the final read every minute left is journaled from the counts run.json gets, so the
 * journal's lines and run.json's arrays are the same numbers.
 */
import type { Clock } from '../../protocol/clock.ts';
import { sumRecordMinutes, type RecordMinuteCounts } from '../../sim/record-minutes.ts';
import type { JournalEntry } from '../../verify/journal.ts';
import type { RecordsPerMinute } from '../../reports/run-result.ts';

/** Real ms between looks at the counts; also how long a minute waits after its end before it is journaled. */
const LOOK_MS = 1000;

export class RecordMinutesJournal {
  /** The first minute not journaled yet. */
  private next = 0;
  /** Virtual time at the previous look: minutes that ended by then are settled. */
  private settledUntil = -Infinity;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly counts: () => RecordMinuteCounts | undefined,
    private readonly clock: Clock,
    private readonly append: (entry: JournalEntry) => void,
  ) {
    this.timer = setInterval(() => this.look(), LOOK_MS);
    this.timer.unref();
  }

  /** The final counts (those run.json gets): every minute not journaled yet is, and the timer stops. */
  finish(final: RecordMinuteCounts | undefined): void {
    this.stop();
    if (final) this.write(final, Infinity);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private look(): void {
    const settled = this.settledUntil;
    this.settledUntil = this.clock.now();
    const c = this.counts();
    if (c) this.write(c, settled);
  }

  private write(c: RecordMinuteCounts, settled: number): void {
    for (; this.next < c.sent.length; this.next++) {
      const from = c.from + this.next * c.minuteMs;
      if (from + c.minuteMs > settled) return;
      const lag = c.lagMs?.[this.next];
      this.append({
        t: 'records', at: this.clock.now(), minute: this.next, from, sent: c.sent[this.next] ?? 0, resent: c.resent[this.next] ?? 0, stored: c.stored[this.next] ?? 0,
        ...(lag === undefined ? {} : { lagMs: lag }),
      });
    }
  }
}

/** run.json's form of the counts (reports/run-result.ts `records`). */
export function recordsForRunJson(c: RecordMinuteCounts): RecordsPerMinute {
  return { from: new Date(c.from).toISOString(), minuteMs: c.minuteMs, sent: [...c.sent], resent: [...c.resent], stored: [...c.stored], ...(c.lagMs ? { lagMs: [...c.lagMs] } : {}) };
}

/** The run's records per minute: the virtual fleet's and the real gateway devices', minute by minute. */
export function recordsOf(...sources: (RecordMinuteCounts | undefined)[]): RecordMinuteCounts | undefined {
  return sumRecordMinutes(sources.filter((c): c is RecordMinuteCounts => c !== undefined));
}
