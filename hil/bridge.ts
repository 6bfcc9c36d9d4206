/**
 * A real device's records into the run.
 *
 * Gateway mode (the default): Vigil is the device's uplink. Each record the device sends over serial
 * is published to the broker *as that device* — client id = device id, its `…/up` topic, through the
 * endpoint the run gives it (its operator's proxy when the network is faulted, so operator faults
 * apply to it as to a virtual device) — on the fleet's own transport (sim/transport/mqtt-link.ts),
 * and the pipeline's application ack on `…/ack` is relayed back to the device (`session.ack`), which
 * then drops what it held. The bridge keeps what the pipeline has not acknowledged and publishes it
 * again when its MQTT link comes back or the ack is overdue, as store-and-forward firmware does.
 *
 * Direct mode: the device has its own uplink to the broker; Vigil only reads its records.
 *
 * Either way every record goes to the oracle (`onRecord`) once: after a reconnection the device
 * resends what it still holds (hil/api.ts), and a seq already seen is a resend, not a new record.
 */
import { batchJson, type UplinkRecord } from '../protocol/uplink.ts';
import { DEVICE_DEFAULTS } from '../sim/model/defaults.ts';
import type { DeviceLink } from '../sim/transport/link.ts';
import { mqttLink } from '../sim/transport/mqtt-link.ts';
import type { DeviceLogin } from '../sim/transport/link.ts';
import type { HilSession } from './api.ts';

export type HilBridgeMode = 'gateway' | 'direct';

export interface BridgeOptions {
  readonly session: HilSession;
  readonly deviceId: string;
  readonly mode: HilBridgeMode;
  /** Gateway: the broker URL the device dials, asked at every dial (the run's endpointOf). */
  readonly endpoint: () => string;
  /** Every new record, in the device's seq order, once (the oracle). */
  readonly onRecord: (r: UplinkRecord) => void;
  /** Real seconds of MQTT keepalive (the run's, scaled as its virtual devices'). */
  readonly keepaliveS: number;
  /** Real ms without an ack before what is pending is published again (default 5 s: DOMAIN.md's server response timeout). */
  readonly resendMs?: number;
  readonly log: (line: string) => void;
  /** Gateway: each publish, as records never published before and records published again (records per minute, sim/record-minutes.ts). */
  readonly onPublished?: (fresh: number, again: number) => void;
  /** Gateway: each pipeline ack, as the records it newly covered. */
  readonly onStored?: (n: number) => void;
  /** Gateway: TLS and the run's device secret, as the virtual devices log in (sim/transport/link.ts). */
  readonly login?: DeviceLogin | undefined;
}

export interface BridgeStats {
  /** New records from the device. */
  records: number;
  /** Records the device sent again (after a reconnection or its own ack timeout), not passed on twice. */
  deviceResends: number;
  /** Records carrying another device's id: not this device's, dropped (the device was configured with another id). */
  foreign: number;
  /** Gateway: publishes to the broker, and of them those that repeated pending records. */
  publishes: number;
  republishes: number;
  /** Gateway: records published for the first time, published again, and covered by a pipeline ack (each record once). */
  recordsSent: number;
  recordsResent: number;
  recordsStored: number;
  /** Gateway: pipeline acks relayed to the device, and relays the device did not take (it was away; relayed again when back). */
  acksRelayed: number;
  ackRelayFailures: number;
  linkUps: number;
  linkDowns: number;
  /** Gateway: MQTT link errors (connect and keepalive timeouts, refusals), each kind logged once in a row. */
  linkErrors: number;
}

/** DESIGN.md "Uplink": records per publish, as the virtual firmware batches them. */
const MAX_BATCH = DEVICE_DEFAULTS.maxBatch;
/** Real ms between the MQTT link's reconnect attempts (the fleet's is 1–2 s). */
const RECONNECT_MS = 1000;

export class HilBridge {
  readonly stats: BridgeStats = { records: 0, deviceResends: 0, foreign: 0, publishes: 0, republishes: 0, recordsSent: 0, recordsResent: 0, recordsStored: 0, acksRelayed: 0, ackRelayFailures: 0, linkUps: 0, linkDowns: 0, linkErrors: 0 };
  /** Highest seq the device sent. */
  private lastSeq = 0;
  /** Gateway: highest seq the pipeline acknowledged. */
  private ackedSeq = 0;
  /** Gateway: records not yet acknowledged by the pipeline, by seq, in seq order. */
  private readonly pending = new Map<number, UplinkRecord>();
  /** Gateway: highest pending seq published on the current link session. */
  private publishedUpTo = 0;
  private link: DeviceLink | undefined;
  private readonly offs: (() => void)[] = [];
  private resendTimer: NodeJS.Timeout | undefined;
  private ackProgressAt = Date.now();
  private warnedForeign = false;
  private lastLinkError: string | undefined;
  /** Each record's device time, by seq (a day at 15 s is 5,760 pairs): what was made by the end of the run. */
  private readonly timeOf = new Map<number, number>();
  private lastTime = -Infinity;

  constructor(private readonly o: BridgeOptions) {}

  start(): void {
    const { session } = this.o;
    this.offs.push(session.onRecord((r) => this.fromDevice(r)));
    if (this.o.mode === 'direct') return;
    // A device back after a reconnection gets the latest ack at once: it may have missed one.
    this.offs.push(session.onState((s) => {
      if (s === 'up' && this.ackedSeq > 0) this.relayAck();
    }));
    this.link = mqttLink(this.o.endpoint, this.o.deviceId, {
      onUp: () => {
        this.stats.linkUps++;
        this.lastLinkError = undefined;
        // A new session: everything pending goes out again (the broker may have lost it with the old one).
        this.publishedUpTo = this.ackedSeq;
        this.flush();
      },
      onDown: () => {
        this.stats.linkDowns++;
      },
      onAck: (seq) => this.fromPipeline(seq),
      onError: (err) => {
        this.stats.linkErrors++;
        // Said once per kind in a row: a faulted path repeats the same error at every redial.
        if (err.message === this.lastLinkError) return;
        this.lastLinkError = err.message;
        this.o.log(`hil ${this.o.deviceId}: uplink: ${err.message}`);
      },
    }, {
      reconnectMs: RECONNECT_MS, keepaliveS: this.o.keepaliveS, tls: this.o.login?.tls, deviceSecret: this.o.login?.deviceSecret,
    });
    const resendMs = this.o.resendMs ?? DEVICE_DEFAULTS.ackTimeoutMs;
    this.resendTimer = setInterval(() => {
      if (this.pending.size === 0 || Date.now() - this.ackProgressAt < resendMs) return;
      this.ackProgressAt = Date.now();
      this.publishedUpTo = this.ackedSeq;
      this.flush();
    }, Math.max(100, resendMs / 4));
  }

  private fromDevice(r: UplinkRecord): void {
    if (r.device !== this.o.deviceId) {
      this.stats.foreign++;
      if (!this.warnedForeign) {
        this.warnedForeign = true;
        this.o.log(`hil ${this.o.deviceId}: the device sends records as "${r.device}", not as the id it was configured with: dropped (see docs/PROTOCOL.md configure)`);
      }
      return;
    }
    if (r.seq <= this.lastSeq) {
      this.stats.deviceResends++;
      // It still holds what the pipeline acknowledged: the ack did not reach it.
      if (this.o.mode === 'gateway' && r.seq <= this.ackedSeq) this.relayAck();
      return;
    }
    this.lastSeq = r.seq;
    this.lastTime = r.time;
    this.timeOf.set(r.seq, r.time);
    this.stats.records++;
    this.o.onRecord(r);
    if (this.o.mode === 'direct') return;
    if (this.pending.size === 0) this.ackProgressAt = Date.now();
    this.pending.set(r.seq, r);
    this.flush();
  }

  /** Publishes the pending records past publishedUpTo, in batches, while the link is up. */
  private flush(): void {
    const link = this.link;
    if (!link?.connected) return;
    let batch: UplinkRecord[] = [];
    const send = (): void => {
      if (batch.length === 0) return;
      const last = (batch[batch.length - 1] as UplinkRecord).seq;
      const again = last <= this.lastPublished;
      link.publish(batchJson(batch), 1);
      this.stats.publishes++;
      if (again) this.stats.republishes++;
      const fresh = batch.filter((r) => r.seq > this.lastPublished).length;
      this.stats.recordsSent += fresh;
      this.stats.recordsResent += batch.length - fresh;
      this.o.onPublished?.(fresh, batch.length - fresh);
      this.lastPublished = Math.max(this.lastPublished, last);
      this.publishedUpTo = last;
      batch = [];
    };
    for (const [seq, r] of this.pending) {
      if (seq <= this.publishedUpTo) continue;
      batch.push(r);
      if (batch.length >= MAX_BATCH) send();
    }
    send();
  }

  /** Highest seq ever published: a publish at or below it repeats one. */
  private lastPublished = 0;

  private fromPipeline(seq: number): void {
    if (seq <= this.ackedSeq) return;
    const stored = Math.min(seq, this.lastSeq) - Math.min(this.ackedSeq, this.lastSeq);
    this.ackedSeq = seq;
    if (stored > 0) {
      this.stats.recordsStored += stored;
      this.o.onStored?.(stored);
    }
    this.ackProgressAt = Date.now();
    for (const s of this.pending.keys()) {
      if (s > seq) break;
      this.pending.delete(s);
    }
    this.publishedUpTo = Math.max(this.publishedUpTo, seq);
    this.relayAck();
  }

  private relayAck(): void {
    const seq = this.ackedSeq;
    this.o.session.ack(seq).then(() => {
      this.stats.acksRelayed++;
    }, () => {
      // The device is away: it gets the ack when it is back (onState 'up'), or when it resends.
      this.stats.ackRelayFailures++;
    });
  }

  /** Gateway: records the pipeline has not acknowledged yet. */
  get unacked(): number {
    return this.pending.size;
  }

  /**
   * For position completeness (verify/completeness.ts): the records the device made by virtual
   * `until` (the end of the run: a real device goes on recording after it, a virtual one does not),
   * as far as the run saw them — every seq up to the last of them must be stored.
   */
  recordState(until = Infinity): { deviceId: string; lastSeq: number; ackedSeq: number; pendingSeqs: number[]; evicted: number } {
    let lastSeq = 0;
    for (const [seq, time] of this.timeOf) if (time <= until) lastSeq = Math.max(lastSeq, seq);
    const pendingSeqs = [...this.pending.keys()].filter((s) => s <= lastSeq);
    return { deviceId: this.o.deviceId, lastSeq, ackedSeq: Math.min(this.ackedSeq, lastSeq), pendingSeqs, evicted: 0 };
  }

  /** Gateway: highest seq the pipeline acknowledged (0 in direct mode: the device's own uplink gets the acks). */
  get acked(): number {
    return this.ackedSeq;
  }

  /** Highest seq the device sent. */
  get seenSeq(): number {
    return this.lastSeq;
  }

  /** Device time of its latest record (-Infinity before the first). */
  get seenTime(): number {
    return this.lastTime;
  }

  async close(): Promise<void> {
    if (this.resendTimer) clearInterval(this.resendTimer);
    for (const off of this.offs.splice(0)) off();
    await this.link?.close();
  }
}
