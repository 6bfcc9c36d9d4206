/**
 * The firmware of a GPS bracelet (PSEM), as a pure state machine under an injected clock.
 *
 * Store-and-forward (DESIGN.md "Uplink"): every record gets the next per-device seq and goes into a
 * bounded outbox; it leaves the outbox only when the pipeline's application-level ack covers it —
 * a broker PUBACK proves nothing past the broker (the 2021 failure sat after it). Unacked records
 * are resent after an ack timeout (with backoff) and on every reconnect.
 *
 * The fleet drives it: `wake(now, linkUp)` returns the batches to publish now; `nextWakeAt()` says
 * when to call again; `onAck` and `onLinkUp` feed the link's events in.
 */
import type { PositionRecord, UplinkRecord } from '../../protocol/uplink.ts';
import { withNoise, type LatLon } from './geo.ts';
import type { Rng } from './random.ts';
import type { Trajectory } from './mobility.ts';
import type { DEVICE_DEFAULTS } from './defaults.ts';

export type FirmwareConfig = { -readonly [K in keyof typeof DEVICE_DEFAULTS]: number };

export interface FirmwareCounters {
  created: number;
  sent: number;
  resent: number;
  /** Records pushed out of a full outbox before they were acked (lost by the device). */
  evicted: number;
}

export class Firmware {
  private seq = 0;
  private acked = 0;
  /** Unacked records, in seq order. */
  private readonly outbox: UplinkRecord[] = [];
  /** Seqs already published on the current link session (so a new record is not sent twice). */
  private sentUpTo = 0;
  private nextFixAt: number;
  private lastRecordAt: number;
  private resendAt = Infinity;
  private ackTimeout: number;
  private recordingUntil = Infinity;
  private readonly start: number;
  private readonly initialBattery: number;
  readonly counters: FirmwareCounters = { created: 0, sent: 0, resent: 0, evicted: 0 };

  constructor(
    readonly deviceId: string,
    private readonly cfg: FirmwareConfig,
    private readonly trajectory: Trajectory,
    /** Whether a point violates one of the device's rules (it then reports faster, DOMAIN.md). */
    private readonly violates: (p: LatLon) => boolean,
    private readonly noise: Rng,
    start: number,
    /** Offset of the first fix, so the fleet's reports are spread over the interval. */
    firstFixDelayMs: number,
    initialBattery: number,
  ) {
    this.nextFixAt = start + firstFixDelayMs;
    this.lastRecordAt = this.nextFixAt - cfg.fixIntervalMs;
    this.ackTimeout = cfg.ackTimeoutMs;
    this.start = start;
    this.initialBattery = initialBattery;
  }

  /** The device makes no records after `t` (end of the scenario's timeline); it still resends. */
  stopRecordingAfter(t: number): void {
    this.recordingUntil = t;
  }

  get lastSeq(): number {
    return this.seq;
  }
  get ackedSeq(): number {
    return this.acked;
  }
  get pendingSeqs(): number[] {
    return this.outbox.map((r) => r.seq);
  }
  get pending(): number {
    return this.outbox.length;
  }

  nextWakeAt(): number {
    const heartbeatAt = this.lastRecordAt + this.cfg.heartbeatMs;
    const recordAt = Math.min(this.nextFixAt, heartbeatAt);
    return Math.min(recordAt <= this.recordingUntil ? recordAt : Infinity, this.resendAt);
  }

  /** Makes the records due by `now`; returns the batches to publish (none while the link is down). */
  wake(now: number, linkUp: boolean, onRecord: (r: UplinkRecord) => void): UplinkRecord[][] {
    this.makeDueRecords(now, onRecord);
    if (!linkUp) {
      this.resendAt = Infinity; // nothing to resend into a dead link; onLinkUp re-arms it
      return [];
    }
    const batches: UplinkRecord[][] = [];
    if (now >= this.resendAt && this.outbox.length > 0) {
      // Ack timeout: resend everything unacked, and back off (5 s, 10 s, … capped) so a dead path
      // does not become a resend storm.
      this.sentUpTo = 0;
      this.ackTimeout = Math.min(this.ackTimeout * 2, this.cfg.maxAckTimeoutMs);
    }
    const unsent = this.outbox.filter((r) => r.seq > this.sentUpTo);
    for (let i = 0; i < unsent.length; i += this.cfg.maxBatch) {
      batches.push(unsent.slice(i, i + this.cfg.maxBatch));
    }
    for (const r of unsent) {
      if (r.seq <= this.counters.sent) this.counters.resent++;
      else this.counters.sent = r.seq;
    }
    if (unsent.length > 0) {
      this.sentUpTo = (unsent[unsent.length - 1] as UplinkRecord).seq;
      this.resendAt = now + this.ackTimeout;
    }
    if (this.outbox.length === 0) this.resendAt = Infinity;
    return batches;
  }

  /** The pipeline's ack: every record up to `seq` is durably stored. */
  onAck(seq: number): void {
    if (seq <= this.acked) return;
    this.acked = Math.min(seq, this.seq);
    let n = 0;
    while (n < this.outbox.length && (this.outbox[n] as UplinkRecord).seq <= this.acked) n++;
    this.outbox.splice(0, n);
    this.ackTimeout = this.cfg.ackTimeoutMs;
    if (this.outbox.length === 0) this.resendAt = Infinity;
  }

  /** A new link session: everything unacked goes out again at the next wake. */
  onLinkUp(now: number): void {
    this.sentUpTo = 0;
    this.resendAt = this.outbox.length > 0 ? now : Infinity;
  }

  private makeDueRecords(now: number, onRecord: (r: UplinkRecord) => void): void {
    for (;;) {
      const heartbeatAt = this.lastRecordAt + this.cfg.heartbeatMs;
      const t = Math.min(this.nextFixAt, heartbeatAt);
      if (t > now || t > this.recordingUntil) return;
      if (this.nextFixAt <= heartbeatAt) this.fix(t, onRecord);
      else this.push({ device: this.deviceId, seq: 0, time: t, battery: this.batteryAt(t), type: 'heartbeat' }, onRecord);
    }
  }

  private fix(t: number, onRecord: (r: UplinkRecord) => void): void {
    const truth = this.trajectory.positionAt(t);
    const p = withNoise(truth, this.noise);
    const rec: PositionRecord = {
      device: this.deviceId, seq: 0, time: t, battery: this.batteryAt(t), type: 'position',
      lat: round6(p.lat), lon: round6(p.lon), accuracy: 5,
    };
    this.push(rec, onRecord);
    this.nextFixAt = t + this.fixInterval(t, truth);
  }

  /** DOMAIN.md cadence: 15 s while violating, 60 s moving, hourly at rest (woken early by motion). */
  private fixInterval(t: number, truth: LatLon): number {
    const c = this.cfg;
    if (this.violates(truth)) return c.violationFixIntervalMs;
    if (t - this.trajectory.stillSince(t) < c.restAfterMs) return c.fixIntervalMs;
    const wake = this.trajectory.nextMoveAt(t);
    return Math.max(c.fixIntervalMs, Math.min(c.restFixIntervalMs, wake - t));
  }

  private push(r: UplinkRecord, onRecord: (r: UplinkRecord) => void): void {
    const rec = { ...r, seq: ++this.seq } as UplinkRecord;
    this.lastRecordAt = rec.time;
    this.counters.created++;
    if (this.outbox.length >= this.cfg.outboxLimit) {
      this.outbox.shift();
      this.counters.evicted++;
    }
    this.outbox.push(rec);
    onRecord(rec);
  }

  /** Linear drain (DOMAIN.md: ≤ 50 h on a charge); charging and low-battery alarms come with issue 3. */
  private batteryAt(t: number): number {
    const hours = Math.max(0, t - this.start) / 3_600_000;
    return Math.max(1, Math.round(this.initialBattery - this.cfg.batteryDrainPerHour * hours));
  }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
