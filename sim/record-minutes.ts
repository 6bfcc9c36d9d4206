/**
 * Records sent vs stored per virtual minute (issue 6, report.html's "records sent vs stored"): the
 * fleet counts, in fixed per-minute buckets, the records it published for the first time, those it
 * published again (resends: after an ack timeout, on every reconnect), and those the pipeline
 * acknowledged as stored (the application ack), each by the virtual minute it happened in. And, per
 * minute, the worst lag of its own wakes (issue 7): when the harness fell behind its clock, not only
 * by how much (verify/harness-pace.ts).
 *
 * Cheap on purpose: four arrays of numbers indexed by minute, one addition per publish or ack, no
 * object per record — 15,000 devices at 4 records/s must not notice it. Minute 0 starts at the
 * timeline's start (`from`); anything before it (nothing is made before the timeline) counts in 0.
 */

import type { RecordMinuteCounts } from '../protocol/record-minutes.ts';

export type { RecordMinuteCounts } from '../protocol/record-minutes.ts';

export const MINUTE_MS = 60_000;

export class RecordMinutes {
  private readonly sentBy: number[] = [];
  private readonly resentBy: number[] = [];
  private readonly storedBy: number[] = [];
  private readonly lagBy: number[] = [];

  constructor(readonly from: number, readonly minuteMs = MINUTE_MS) {}

  /** One publish at virtual time `at`: `fresh` records never published before, `again` published already. */
  published(at: number, fresh: number, again: number): void {
    const m = this.minute(at);
    this.sentBy[m]! += fresh;
    this.resentBy[m]! += again;
  }

  /** An ack at virtual time `at` newly covered `n` records. */
  stored(at: number, n: number): void {
    this.storedBy[this.minute(at)]! += n;
  }

  /** The fleet woke a device `lagMs` real ms after it was due, at virtual time `at`: the minute keeps its worst. */
  lagged(at: number, lagMs: number): void {
    const m = this.minute(at);
    if (lagMs > this.lagBy[m]!) this.lagBy[m] = lagMs;
  }

  /** A copy of the counts so far (every array as long as the latest minute anything happened in). */
  counts(): RecordMinuteCounts {
    return { from: this.from, minuteMs: this.minuteMs, sent: [...this.sentBy], resent: [...this.resentBy], stored: [...this.storedBy], lagMs: [...this.lagBy] };
  }

  /** The bucket of `at`, with every bucket up to it present (zero) in all four arrays. */
  private minute(at: number): number {
    const m = Math.max(0, Math.floor((at - this.from) / this.minuteMs));
    while (this.sentBy.length <= m) {
      this.sentBy.push(0);
      this.resentBy.push(0);
      this.storedBy.push(0);
      this.lagBy.push(0);
    }
    return m;
  }
}

/**
 * Element-wise sums, as long as the longest (the shards of a `--workers N` fleet share one timeline
 * start); the lag is the worst of the parts, not a sum: the shards wait on their own clocks.
 */
export function sumRecordMinutes(parts: readonly RecordMinuteCounts[]): RecordMinuteCounts | undefined {
  const first = parts[0];
  if (!first) return undefined;
  const length = Math.max(...parts.map((p) => p.sent.length));
  const fold = (pick: (p: RecordMinuteCounts) => readonly number[] | undefined, join: (a: number, b: number) => number): number[] => {
    const out = new Array<number>(length).fill(0);
    for (const p of parts) pick(p)?.forEach((n, i) => (out[i] = join(out[i]!, n)));
    return out;
  };
  const add = (a: number, b: number): number => a + b;
  return {
    from: first.from, minuteMs: first.minuteMs, sent: fold((p) => p.sent, add), resent: fold((p) => p.resent, add), stored: fold((p) => p.stored, add),
    lagMs: fold((p) => p.lagMs, Math.max),
  };
}
