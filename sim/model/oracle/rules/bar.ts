/**
 * bar_pre_alert and bar_alert (docs/RULES.md "BAR"). The pair's stream is the position records of
 * both units merged by device time (ties: the perpetrator's first, then seq), evaluated only up to
 * the watermark — the smaller of the two units' latest record times, any record type — so the
 * outcome does not depend on which unit's records come first. Each unit's positions wait in a
 * small queue until the watermark passes them, and no longer.
 *
 * Trigger time (RULES.md "bar_pre_alert and bar_alert"): the moment the pair became decidable at
 * the triggering position — the later of its device time and the other unit's first record at or
 * after it. A unit that is silent (and raised as communication_loss) holds its pair's approach
 * alarms; their SLA runs from when it speaks again, not from a moment no pipeline could decide.
 */
import distance from '@turf/distance';
import { point } from '@turf/helpers';
import type { BarPair } from '../../../../protocol/provisioning.ts';
import type { UplinkRecord } from '../../../../protocol/uplink.ts';
import type { Expectation } from '../expectation.ts';

interface Fix {
  readonly seq: number;
  readonly time: number;
  readonly lat: number;
  readonly lon: number;
  /** Device time of the other unit's first record at or after `time`, once there is one. */
  decidedAt?: number;
}

/**
 * Bound on the record times a unit keeps for its partner's look-ups while the partner has never been
 * heard (otherwise they are trimmed to the partner's latest time): about a week of records.
 */
const HISTORY_CAP = 10_000;

/** One unit's side of the pair: its latest record time and the positions not yet evaluated. */
class Side {
  latest = Number.NaN;
  private queue: Fix[] = [];
  private head = 0;
  /** Queue index of the first position the other unit has not yet reached (decided ones are a prefix). */
  private undecided = 0;
  /**
   * This unit's record times at or after the other unit's latest, in order: a position of the
   * other unit that arrives after them (records of different devices come in any order, e.g. from
   * several shards) looks its decision time up here, so the trigger time does not depend on order.
   */
  private history: number[] = [];
  last: Fix | undefined;

  constructor(readonly deviceId: string) {}

  peek(): Fix | undefined {
    return this.queue[this.head];
  }

  take(): Fix {
    const f = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.undecided = 0;
      this.head = 0;
    } else if (this.head >= 256 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.undecided = Math.max(0, this.undecided - this.head);
      this.head = 0;
    }
    return f;
  }

  /** The other unit made a record at `t`: this unit's waiting positions up to `t` are decided then. */
  decide(t: number): void {
    let i = Math.max(this.undecided, this.head);
    for (; i < this.queue.length && this.queue[i]!.time <= t; i++) this.queue[i]!.decidedAt ??= t;
    this.undecided = i;
  }

  /** Remember a record time of this unit; times before the other unit's latest are never looked up. */
  remember(t: number, otherLatest: number): void {
    const h = this.history;
    h.push(t);
    if (Number.isNaN(otherLatest)) {
      if (h.length > HISTORY_CAP) h.shift();
    } else {
      let drop = 0;
      while (drop < h.length && h[drop]! < otherLatest) drop++;
      if (drop > 0) h.splice(0, drop);
    }
  }

  /** This unit's first remembered record time at or after `t`. */
  firstAtOrAfter(t: number): number | undefined {
    for (const x of this.history) if (x >= t) return x;
    return undefined;
  }

  push(f: Fix): void {
    this.queue.push(f);
  }

  /** Positions waiting for the watermark (tests: the buffer must not grow without bound). */
  get pending(): number {
    return this.queue.length - this.head;
  }
}

type State = 'clear' | 'pre-alert' | 'alert';

/** RULES.md "Distance": haversine on a 6,371,008.8 m sphere (@turf/distance's radius), to the nearest metre. */
export function pairDistanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  return Math.round(distance(point([a.lon, a.lat]), point([b.lon, b.lat]), { units: 'meters' }));
}

export class BarRule {
  private readonly perp: Side;
  private readonly victim: Side;
  private state: State = 'clear';
  private readonly alertM: number;

  constructor(private readonly pair: BarPair) {
    this.perp = new Side(pair.perpetratorId);
    this.victim = new Side(pair.victimId);
    this.alertM = pair.alertKm * 1000;
  }

  get pending(): number {
    return this.perp.pending + this.victim.pending;
  }

  /** Any record of either unit: it moves that unit's watermark; a position also joins the stream. */
  observe(r: UplinkRecord, out: Expectation[]): void {
    const side = r.device === this.pair.perpetratorId ? this.perp : this.victim;
    const other = side === this.perp ? this.victim : this.perp;
    side.latest = r.time;
    other.decide(r.time);
    side.remember(r.time, other.latest);
    if (r.type === 'position') side.push({ seq: r.seq, time: r.time, lat: r.lat, lon: r.lon, decidedAt: other.firstAtOrAfter(r.time) });
    this.drain(false, out);
  }

  /** End of the run: evaluate up to the final watermark, the smaller of the two units' last record times. */
  finish(out: Expectation[]): void {
    this.drain(true, out);
  }

  private drain(final: boolean, out: Expectation[]): void {
    const w = Math.min(this.perp.latest, this.victim.latest); // NaN until both units were heard
    if (Number.isNaN(w)) return;
    for (;;) {
      const p = this.perp.peek();
      const v = this.victim.peek();
      // Merge order: time, then the perpetrator first on a tie (each side is already in seq order).
      const side = p && (!v || p.time <= v.time) ? this.perp : v ? this.victim : undefined;
      if (!side) return;
      const next = side.peek()!;
      if (next.time > w) return;
      // A victim position at exactly the watermark while the perpetrator's latest record is at
      // that same time: the perpetrator may still send a position stamped then, which goes first.
      // Hold it until the perpetrator moves on (or the run ends), so arrival order cannot matter.
      if (!final && side === this.victim && next.time === w && this.perp.latest === w) return;
      side.take();
      side.last = next;
      this.evaluate(side, next, out);
    }
  }

  private evaluate(side: Side, at: Fix, out: Expectation[]): void {
    const p = this.perp.last;
    const v = this.victim.last;
    if (!p || !v) return; // nothing is evaluated until both units have a position
    const d = pairDistanceM(p, v);
    const a = this.alertM;
    let kind: 'bar_alert' | 'bar_pre_alert' | undefined;
    if (d <= a) {
      if (this.state !== 'alert') kind = 'bar_alert';
      this.state = 'alert';
    } else if (d <= 2 * a) {
      if (this.state === 'clear') kind = 'bar_pre_alert';
      this.state = 'pre-alert'; // from alert: de-escalation, no alarm
    } else {
      this.state = 'clear';
    }
    // Released by the final watermark without the other unit reaching it: no decision time; the
    // trigger record's own time stands.
    if (kind) out.push({ deviceId: side.deviceId, kind, seq: at.seq, deviceTime: at.time, triggerTime: at.decidedAt ?? at.time, pairId: this.pair.pairId });
  }
}
