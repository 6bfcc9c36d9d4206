/**
 * bar_pre_alert and bar_alert (docs/RULES.md "BAR"). The pair's stream is the position records of
 * both units merged by device time (ties: the perpetrator's first, then seq), evaluated only up to
 * the watermark — the smaller of the two units' latest record times, any record type — so the
 * outcome does not depend on which unit's records come first. Each unit's positions wait in a
 * small queue until the watermark passes them, and no longer.
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
}

/** One unit's side of the pair: its latest record time and the positions not yet evaluated. */
class Side {
  latest = Number.NaN;
  private queue: Fix[] = [];
  private head = 0;
  last: Fix | undefined;

  constructor(readonly deviceId: string) {}

  peek(): Fix | undefined {
    return this.queue[this.head];
  }

  take(): Fix {
    const f = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 256 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return f;
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
    side.latest = r.time;
    if (r.type === 'position') side.push({ seq: r.seq, time: r.time, lat: r.lat, lon: r.lon });
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
    if (kind) out.push({ deviceId: side.deviceId, kind, seq: at.seq, deviceTime: at.time, triggerTime: at.time, pairId: this.pair.pairId });
  }
}
