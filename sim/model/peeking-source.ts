/**
 * What both device models (GPS devices and PSE home units) share as record sources: the next
 * record is worked out ahead (`prepare` → `peek`) so the fleet can ask when it is due, then handed
 * over (`takeRecord`).
 */
import type { RecordDraft, RecordSource } from './firmware.ts';

export abstract class PeekingSource<B extends { percentAt(t: number): number } = { percentAt(t: number): number }> implements RecordSource {
  /** Device time of the last record handed over (heartbeats count from it). */
  protected lastAt: number;
  protected peeked: RecordDraft | undefined;
  /** NaN: not worked out yet; Infinity: silent for good. */
  protected peekedAt = NaN;

  constructor(protected readonly sourceId: string, protected readonly battery: B, lastAt: number) {
    this.lastAt = lastAt;
  }

  nextRecordAt(): number {
    this.prepare();
    return this.peekedAt;
  }

  takeRecord(): RecordDraft {
    this.prepare();
    const r = this.peeked;
    if (r === undefined) throw new RangeError(`${this.sourceId}: no record to take`);
    this.peeked = undefined;
    this.peekedAt = NaN;
    this.lastAt = r.time;
    return r;
  }

  /** A heartbeat, or an event record when `event` is given. */
  protected draft(t: number, event?: string): RecordDraft {
    const battery = this.battery.percentAt(t);
    return event === undefined
      ? { device: this.sourceId, seq: 0, time: t, battery, type: 'heartbeat' }
      : { device: this.sourceId, seq: 0, time: t, battery, type: 'event', event };
  }

  protected peek(r: RecordDraft): void {
    this.peeked = r;
    this.peekedAt = r.time;
  }

  /** Walks the device's timelines in time order to its next record, and peeks it. */
  protected abstract prepare(): void;
}
