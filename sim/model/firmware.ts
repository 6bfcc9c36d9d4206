/**
 * Device firmware, as a pure state machine under an injected clock: store-and-forward of the
 * records a device model (its record source) makes.
 *
 * Store-and-forward (DESIGN.md "Uplink"): every record gets the next per-device seq and goes into a
 * bounded outbox; it leaves the outbox only when the pipeline's application-level ack covers it —
 * a broker PUBACK proves nothing past the broker (the 2021 failure sat after it). Unacked records
 * are resent after an ack timeout (with backoff) and on every reconnect. Records are published as
 * soon as they are made, so events ("alarm upload: immediate", DOMAIN.md) go out at once.
 *
 * The fleet drives it: `wake(now, linkUp)` returns the batches to publish now; `nextWakeAt()` says
 * when to call again; `onAck` and `onLinkUp` feed the link's events in. What the device records —
 * fixes, events, heartbeats, and when — is the record source's: gps-device.ts (PSEM, BAR units),
 * home-unit.ts (PSE).
 */
import type { EventRecord, HeartbeatRecord, PositionRecord, UplinkRecord } from '../../protocol/uplink.ts';
import type { DEVICE_DEFAULTS } from './defaults.ts';

export type FirmwareConfig = { -readonly [K in keyof typeof DEVICE_DEFAULTS]: number };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A record as a device model makes it (seq 0): the outbox gives it its seq. */
export type RecordDraft = Mutable<PositionRecord> | Mutable<HeartbeatRecord> | Mutable<EventRecord>;

/** What a device records, in time order. */
export interface RecordSource {
  /** Device time of the next record the device will make (Infinity: none, ever). Never goes back. */
  nextRecordAt(): number;
  /** Makes the record due at nextRecordAt(); its seq is set by the firmware. */
  takeRecord(): RecordDraft;
}

export interface FirmwareCounters {
  created: number;
  sent: number;
  resent: number;
  /** Records pushed out of a full outbox before they were acked (lost by the device). */
  evicted: number;
}

/**
 * What an empty outbox and an empty send list are: one frozen array each, shared by every firmware,
 * so a mistaken push onto one throws. A device is between records nearly all the time: an empty
 * array of its own cost it 32 bytes each (issue 7). And an array V8 grows by `push` gets room for 17
 * elements; emptied by `splice`, it lost them, and the next record made it again — two such stores
 * a record, which lived until the pipeline's ack and so were promoted to the old generation
 * (docs/PERFORMANCE.md). The first record, or the first send, now makes an array of exactly its size.
 */
const NO_RECORDS: UplinkRecord[] = Object.freeze([]) as unknown as UplinkRecord[];
const NO_SENDS: number[] = Object.freeze([]) as unknown as number[];

export class Firmware {
  private seq = 0;
  private acked = 0;
  /** Unacked records, in seq order. */
  private outbox: UplinkRecord[] = NO_RECORDS;
  /** Seqs already published on the current link session (so a new record is not sent twice). */
  private sentUpTo = 0;
  private resendAt = Infinity;
  private ackTimeout: number;
  private recordingUntil = Infinity;
  /** Ack timeouts in a row without any ack. */
  private timeouts = 0;
  private reconnectWanted = false;
  /** The link was up at the last wake (or came up since). */
  private up = false;
  /**
   * The publishes not yet acked, oldest first, two numbers each: the last seq it carried, and when it
   * went. Numbers in one array rather than an object per publish, which lived until its ack and so
   * survived the young generation's collections (issue 7).
   */
  private sends: number[] = NO_SENDS;
  readonly counters: FirmwareCounters = { created: 0, sent: 0, resent: 0, evicted: 0 };

  constructor(readonly deviceId: string, private readonly cfg: FirmwareConfig, private readonly source: RecordSource) {
    this.ackTimeout = cfg.ackTimeoutMs;
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

  /** When to wake the device next: -Infinity when it may send now (its window moved). */
  nextWakeAt(): number {
    if (this.up && this.firstUnsent() < this.windowEnd()) return -Infinity;
    const recordAt = this.source.nextRecordAt();
    return Math.min(recordAt <= this.recordingUntil ? recordAt : Infinity, this.resendAt);
  }

  /** Makes the records due by `now`; returns the batches to publish (none while the link is down). */
  wake(now: number, linkUp: boolean, onRecord: (r: UplinkRecord) => void): UplinkRecord[][] {
    this.makeDueRecords(now, onRecord);
    this.up = linkUp;
    if (!linkUp) {
      this.resendAt = Infinity; // nothing to resend into a dead link; onLinkUp re-arms it
      return [];
    }
    const timedOut = now >= this.resendAt && this.outbox.length > 0;
    if (timedOut) {
      // Ack timeout: resend from the oldest unacked record, and back off (5 s, 10 s, … capped) so a
      // dead path does not become a resend storm. After `maxRetries` timeouts in a row the device
      // also drops its connection and dials again (DOMAIN.md "server response timeout / retries:
      // 5 s / 3"): a session that swallows everything (a black hole, a half-open TCP) is only
      // noticed so.
      this.forgetSends();
      this.ackTimeout = Math.min(this.ackTimeout * 2, this.cfg.maxAckTimeoutMs);
      if (++this.timeouts >= this.cfg.maxRetries) {
        this.timeouts = 0;
        this.reconnectWanted = true;
      }
    }
    const batches: UplinkRecord[][] = [];
    const from = this.firstUnsent();
    const limit = this.windowEnd();
    if (from < limit) {
      const batch = this.outbox.slice(from, limit);
      batches.push(batch);
      for (const r of batch) {
        if (r.seq <= this.counters.sent) this.counters.resent++;
        else this.counters.sent = r.seq;
      }
      this.sentUpTo = (batch[batch.length - 1] as UplinkRecord).seq;
      if (this.sends.length === 0) this.sends = [this.sentUpTo, now];
      else this.sends.push(this.sentUpTo, now);
    }
    this.armResend();
    return batches;
  }

  /** The pipeline's ack: every record up to `seq` is durably stored. */
  onAck(seq: number): void {
    if (seq <= this.acked) return;
    this.acked = Math.min(seq, this.seq);
    let n = 0;
    while (n < this.outbox.length && (this.outbox[n] as UplinkRecord).seq <= this.acked) n++;
    if (n === this.outbox.length) this.outbox = NO_RECORDS;
    else if (n > 0) this.outbox.splice(0, n);
    let covered = 0; // numbers of the sends this ack covers, two per send
    while (covered < this.sends.length && (this.sends[covered] as number) <= this.acked) covered += 2;
    if (covered === this.sends.length) this.sends = NO_SENDS;
    else if (covered > 0) this.sends.splice(0, covered);
    this.ackTimeout = this.cfg.ackTimeoutMs;
    this.timeouts = 0;
    this.armResend();
  }

  /** True once after `maxRetries` ack timeouts in a row: the device wants a fresh connection. */
  takeReconnect(): boolean {
    const r = this.reconnectWanted;
    this.reconnectWanted = false;
    return r;
  }

  /** A new link session: everything unacked goes out again from the next wake on, window by window. */
  onLinkUp(): void {
    this.up = true;
    this.forgetSends();
    this.resendAt = Infinity;
  }

  /** Everything unacked goes out again: no publish is awaited any more. */
  private forgetSends(): void {
    this.sentUpTo = 0;
    this.sends = NO_SENDS;
  }

  /**
   * The send window: only the first `maxBatch` unacked records may be on their way. While acks
   * come, a device reporting every few seconds never reaches it and each record goes out as it is
   * made; a backlog (after an outage, a reconnect, an ack timeout) goes out one batch per ack, as
   * Teltonika-style devices do (DOMAIN.md: the server answers each batch, the device resends when
   * it must) — not the whole outbox at each timeout and each redial, which under a long black
   * hole turned 7,500 devices into a storm of millions of resent records (issue 7).
   */
  private windowEnd(): number {
    return Math.min(this.outbox.length, this.cfg.maxBatch);
  }

  /** The ack timeout runs from the oldest send not yet acked. */
  private armResend(): void {
    const oldest = this.sends[1];
    this.resendAt = oldest === undefined ? Infinity : oldest + this.ackTimeout;
  }

  /** Index of the first outbox record above sentUpTo (the outbox is in seq order): no scan per record. */
  private firstUnsent(): number {
    let lo = 0;
    let hi = this.outbox.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.outbox[mid] as UplinkRecord).seq <= this.sentUpTo) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Makes the records due by `now` (wake does it too): the runner's barrier before the oracle closes. */
  makeDueRecords(now: number, onRecord: (r: UplinkRecord) => void): void {
    for (;;) {
      const t = this.source.nextRecordAt();
      if (t > now || t > this.recordingUntil) return;
      this.push(this.source.takeRecord(), onRecord);
    }
  }

  /**
   * The device's clock is off by `ms` from now on (0: corrected): every record it makes is stamped
   * with its true time + ms (a clock-skew fault: an RTC that jumped, a bad NTP answer). What the
   * device does and when does not change; only what it writes down.
   */
  setClockSkew(ms: number): void {
    this.clockSkew = ms;
  }

  private clockSkew = 0;

  private push(rec: RecordDraft, onRecord: (r: UplinkRecord) => void): void {
    rec.seq = ++this.seq;
    rec.time += this.clockSkew;
    this.counters.created++;
    if (this.outbox.length >= this.cfg.outboxLimit) {
      this.outbox.shift();
      this.counters.evicted++;
    }
    if (this.outbox.length === 0) this.outbox = [rec];
    else this.outbox.push(rec);
    onRecord(rec);
  }
}
