/**
 * The virtual fleet: every planned device with its own firmware and its own MQTT connection, all
 * driven from one event loop by a wake queue in virtual time.
 */
import type { Clock } from '../protocol/clock.ts';
import { batchJson, type UplinkRecord } from '../protocol/uplink.ts';
import type { Firmware } from './model/firmware.ts';
import { WakeQueue } from './scheduler.ts';
import type { DeviceLink, DeviceLogin, LinkEvents, LinkOptions } from './transport/link.ts';
import { isMqttOverWebSocket } from '../protocol/tls.ts';
import { FLEET_REDIAL_RATE_PER_S, fleetBackoff } from './transport/backoff.ts';
import { DialPacer } from './transport/dial-pacer.ts';
import { leanLink } from './transport/lean-link.ts';
import { mqttLink } from './transport/mqtt-link.ts';
import { RecordMinutes, type RecordMinuteCounts } from './record-minutes.ts';

/**
 * When a device forgets a record (scenarios/network-schema.ts "firmware"): store-and-forward on the
 * pipeline's application ack; broker-ack on the broker's PUBACK; fire-and-forget once written (QoS 0).
 */
export type DeliveryMode = 'store-and-forward' | 'broker-ack' | 'fire-and-forget';

export interface FleetOptions {
  /** The broker URL a device dials (asked again at every dial): the broker, or its operator's proxy in front of it. */
  readonly endpointOf: (slot: number) => string;
  readonly firmwares: readonly Firmware[];
  /** Per device (same order as firmwares); default store-and-forward. */
  readonly modes?: readonly DeliveryMode[];
  readonly seed: number;
  /** Connections opened per real second while the fleet starts, so it does not connect in one burst. */
  readonly connectRatePerS: number;
  /**
   * Redials per real second the fleet's first redials after a mass drop are spread to (default
   * FLEET_REDIAL_RATE_PER_S; a shard of a sharded fleet gets its share): see sim/transport/backoff.ts.
   */
  readonly redialRatePerS?: number;
  /** Virtual ms per real ms (default 1): the firmware's redial backoff is in device time (sim/transport/backoff.ts). */
  readonly speed?: number;
  /** Every record a device makes, in its seq order, as it is made (oracle, journal). */
  readonly onRecord: (r: UplinkRecord) => void;
  /** Real seconds of MQTT keepalive (default 60): how soon a device notices a dead path. */
  readonly keepaliveS?: number;
  /** A link error worth telling the user (not every reconnect). */
  readonly onLinkError?: (deviceId: string, err: Error) => void;
  /**
   * Each device's MQTT client: the lean link on a raw socket (sim/transport/lean-link.ts, the
   * default: same events as mqtt.js at a fraction of the per-device cost; mqtt:// endpoints only),
   * or mqtt.js (sim/transport/mqtt-link.ts), which a ws:// or wss:// endpoint always gets.
   */
  readonly link?: 'mqttjs' | 'lean';
  /** TLS and per-device credentials; none: plain, anonymous (sim/transport/link.ts). */
  readonly login?: DeviceLogin | undefined;
}

export interface FleetStats {
  connected: number;
  connects: number;
  disconnects: number;
  publishes: number;
  acks: number;
  linkErrors: number;
  /** Connections a device dropped after its ack retries ran out. */
  reconnects: number;
  /** Records the pipeline acknowledged as stored (application acks, each record once; the sum of `RecordMinutes` stored). */
  stored: number;
  /**
   * The latest any device was woken after it was due, in real ms: how far the harness itself fell
   * behind its own clock (a busy loop, a starved machine). Records are made on time in virtual time
   * whatever it is, but sent that much late: delays the pipeline did not cause. A max, not a sum.
   */
  wakeLagMaxMs: number;
}

export interface DeviceProgress {
  readonly deviceId: string;
  readonly lastSeq: number;
  readonly ackedSeq: number;
  readonly pendingSeqs: readonly number[];
  readonly evicted: number;
  readonly resent: number;
}

const TICK_MS = 20;
/** A tick's share of the loop: see tick(). */
const TICK_BUDGET_MS = 8;

export class Fleet {
  private readonly links: (DeviceLink | undefined)[] = [];
  private readonly queue = new WakeQueue();
  private timer: NodeJS.Timeout | undefined;
  private warmUp: DialPacer | undefined;
  /** Every redial of the fleet waits its turn here, after its device's backoff (sim/transport/backoff.ts). */
  private readonly redials: DialPacer;
  readonly stats: FleetStats = { connected: 0, connects: 0, disconnects: 0, publishes: 0, acks: 0, linkErrors: 0, reconnects: 0, stored: 0, wakeLagMaxMs: 0 };
  /** Per device, the highest seq an application ack covered: an ack counts only the records it newly covers. */
  private readonly storedUpTo: Float64Array;
  /** Records sent, resent and stored per virtual minute, from the timeline's start (set by run). */
  private minutes: RecordMinutes | undefined;

  /**
   * What every link of the fleet is opened with: one object for all, since a link derives what is
   * its own (its redial jitter, its login) from its device's id (issue 7: one per link was ~145 bytes
   * a device).
   */
  private readonly linkOptions: LinkOptions;

  constructor(private readonly opts: FleetOptions) {
    this.redials = new DialPacer(opts.redialRatePerS ?? FLEET_REDIAL_RATE_PER_S);
    this.storedUpTo = new Float64Array(opts.firmwares.length);
    this.linkOptions = {
      reconnectMs: 1000, backoff: fleetBackoff(opts.firmwares.length, opts.redialRatePerS ?? FLEET_REDIAL_RATE_PER_S, opts.seed, opts.speed ?? 1),
      pacer: this.redials, keepaliveS: opts.keepaliveS ?? 60, tls: opts.login?.tls, deviceSecret: opts.login?.deviceSecret,
    };
  }

  /** Records sent, resent and stored per virtual minute so far; undefined before the timeline starts. */
  get recordMinutes(): RecordMinuteCounts | undefined {
    return this.minutes?.counts();
  }

  private clock: Clock | undefined;
  private continuing: NodeJS.Immediate | undefined;

  /** The rest of a tick that ran out of budget: after this turn's I/O, not a whole TICK_MS later. */
  private continueSoon(clock: Clock): void {
    this.continuing ??= setImmediate(() => {
      this.continuing = undefined;
      this.tick(clock);
    });
  }

  /**
   * Warm-up: opens every connection, spread over time; resolves once all are up, or after
   * `timeoutMs` with however many are (the rest keep trying, and their records wait in the outbox).
   */
  connect(timeoutMs: number): Promise<number> {
    // One pacer lets the warm-up's dials out at the connect rate (sim/transport/dial-pacer.ts): even
    // when the loop stalls, the broker never sees a burst.
    const warmUp = new DialPacer(this.opts.connectRatePerS);
    this.warmUp = warmUp;
    this.opts.firmwares.forEach((_fw, slot) => warmUp.request(() => this.open(slot)));
    return new Promise((resolve) => {
      const started = Date.now();
      const check = setInterval(() => {
        if (this.stats.connected >= this.opts.firmwares.length || Date.now() - started >= timeoutMs) {
          clearInterval(check);
          resolve(this.stats.connected);
        }
      }, 50);
    });
  }

  /** The timeline: devices make and send records in virtual time from now on. */
  run(clock: Clock): void {
    this.clock = clock;
    this.minutes = new RecordMinutes(clock.triple.startVirtual);
    this.opts.firmwares.forEach((fw, slot) => this.queue.schedule(slot, fw.nextWakeAt()));
    this.timer = setInterval(() => this.tick(clock), TICK_MS);
  }

  private open(slot: number): void {
    const fw = this.opts.firmwares[slot] as Firmware;
    // The model plans its first record now, at the warm-up's pace, not when the timeline starts: a
    // device model is lazy, and run() asking 15,350 of them at once for their first wake took one
    // turn of 176 ms (the 2021 replay, 2026-12-01), in the timeline's first real second.
    void fw.nextWakeAt();
    const events = new SlotEvents(this, slot);
    // The lean link speaks MQTT over TCP and TLS; over WebSocket (ws://, wss://) mqtt.js carries it.
    const makeLink = this.opts.link === 'mqttjs' || isMqttOverWebSocket(this.opts.endpointOf(slot)) ? mqttLink : leanLink;
    // The link asks `events` for its endpoint at each dial: no closure of its own per device.
    this.links[slot] = makeLink(events, fw.deviceId, events, this.linkOptions);
  }

  // ---- device `slot`'s link events, called by its SlotEvents (below) ----

  endpointOf(slot: number): string {
    return this.opts.endpointOf(slot);
  }

  linkUp(slot: number): void {
    this.stats.connected++;
    this.stats.connects++;
    const clock = this.clock;
    if (!clock) return; // warm-up: nothing made yet, nothing to resend
    const fw = this.opts.firmwares[slot] as Firmware;
    fw.onLinkUp();
    // Now at the latest: everything unacked goes out again on the new session.
    this.scheduleNow(slot, Math.min(fw.nextWakeAt(), clock.now()));
  }

  linkDown(): void {
    this.stats.connected--;
    this.stats.disconnects++;
  }

  linkAck(slot: number, seq: number): void {
    this.stats.acks++;
    this.countStored(slot, seq);
    // Only store-and-forward firmware listens to the pipeline: the other variants already forgot.
    if ((this.opts.modes?.[slot] ?? 'store-and-forward') !== 'store-and-forward') return;
    const fw = this.opts.firmwares[slot] as Firmware;
    fw.onAck(seq);
    this.scheduleNow(slot, fw.nextWakeAt());
  }

  /**
   * A wake a link event asks for: never due before now. An ack resets the ack timeout, and a send
   * still unacked can be overdue by the reset one at once (after a pipeline restart, by 45 virtual s):
   * the device resends now, as it would — but that was no wake the fleet was late for, and counted
   * as one it showed the harness "behind" its clock at the heal of the e2e's 30-minute pipeline
   * restart, in every run of it (0.46–0.52 s real at speed 120). -Infinity ("as
   * soon as you can", an ack moved the window) stays as it is.
   */
  private scheduleNow(slot: number, at: number): void {
    const now = this.clock?.now();
    this.queue.schedule(slot, at === -Infinity || now === undefined ? at : Math.max(at, now));
  }

  linkError(slot: number, err: Error): void {
    this.stats.linkErrors++;
    this.opts.onLinkError?.((this.opts.firmwares[slot] as Firmware).deviceId, err);
  }

  /**
   * Wakes the devices due by now, for at most TICK_BUDGET_MS: a loop that falls behind (warm-up and
   * load together, a GC) would otherwise wake thousands at once, in one turn of seconds during which
   * no ack is read and no dial goes out (measured: 1-s ticks at the end of a 15,000-device warm-up).
   * What is left waits in the queue and goes on at the next turn, after the sockets were read.
   */
  private tick(clock: Clock): void {
    const now = clock.now();
    const began = performance.now();
    let woken = 0;
    // The earliest due time woken this tick: every wake shares `now`, so it gives the tick's worst lag.
    let earliestDue = Infinity;
    for (const slot of this.queue.due(now)) {
      if ((++woken & 31) === 0 && performance.now() - began > TICK_BUDGET_MS) {
        // Breaking leaves the rest of the due devices in the queue (the generator pops one at a time);
        // this one is popped, so it goes back first, at the time it was due (its lag still counts).
        this.queue.schedule(slot, this.queue.dueAt(slot));
        this.continueSoon(clock);
        break;
      }
      // -Infinity is "as soon as you can" (an ack moved the window): no due time to be late against.
      const dueAt = this.queue.dueAt(slot);
      if (dueAt > -Infinity && dueAt < earliestDue) earliestDue = dueAt;
      const fw = this.opts.firmwares[slot] as Firmware;
      const link = this.links[slot];
      const up = link?.connected ?? false;
      const mode = this.opts.modes?.[slot] ?? 'store-and-forward';
      const resentBefore = fw.counters.resent;
      let published = 0;
      for (const batch of fw.wake(now, up, this.opts.onRecord)) {
        published += batch.length;
        const last = (batch[batch.length - 1] as UplinkRecord).seq;
        const forget = mode === 'store-and-forward' ? undefined : (): void => {
          fw.onAck(last);
          this.scheduleNow(slot, fw.nextWakeAt());
        };
        (link as DeviceLink).publish(batchJson(batch), mode === 'fire-and-forget' ? 0 : 1, forget);
        this.stats.publishes++;
      }
      if (published > 0) {
        const again = fw.counters.resent - resentBefore;
        this.minutes?.published(now, published - again, again);
      }
      if (fw.takeReconnect()) {
        this.stats.reconnects++;
        link?.reconnect();
      }
      // Never at or before `now`: a device is woken at most once per tick.
      this.queue.schedule(slot, Math.max(fw.nextWakeAt(), now + 1));
    }
    if (earliestDue < Infinity) {
      const lagMs = clock.toReal(now - earliestDue);
      if (lagMs > this.stats.wakeLagMaxMs) this.stats.wakeLagMaxMs = lagMs;
      this.minutes?.lagged(now, lagMs);
    }
  }

  /**
   * The application ack says every record up to `seq` is stored (DESIGN.md "Uplink": the highest
   * contiguous seq); what it newly covers counts as stored now, whatever the device's delivery mode
   * (a broker-ack device forgot its records at the PUBACK, but the pipeline still acks them).
   */
  private countStored(slot: number, seq: number): void {
    const fw = this.opts.firmwares[slot] as Firmware;
    const upTo = Math.min(seq, fw.lastSeq);
    const before = this.storedUpTo[slot] as number;
    if (upTo <= before) return;
    this.storedUpTo[slot] = upTo;
    this.stats.stored += upTo - before;
    if (this.clock) this.minutes?.stored(this.clock.now(), upTo - before);
  }

  /**
   * Makes every record due by now, at once, instead of at each device's next tick (they are sent
   * at that tick): after it, every record up to the clock has reached onRecord — the runner calls
   * it before the oracle closes the timeline, however late a loaded event loop runs the ticks.
   */
  sync(): Promise<void> {
    const clock = this.clock;
    if (clock) {
      const now = clock.now();
      for (const fw of this.opts.firmwares) fw.makeDueRecords(now, this.opts.onRecord);
    }
    return Promise.resolve();
  }

  /** Drops every device's connection at once, as an operator-side reset would; each redials on its own schedule. */
  reconnectAll(): void {
    for (const link of this.links) link?.reconnect();
  }

  /** Unacked records across the fleet. */
  get pending(): number {
    let n = 0;
    for (const fw of this.opts.firmwares) n += fw.pending;
    return n;
  }

  progress(): DeviceProgress[] {
    return this.opts.firmwares.map((fw) => ({
      deviceId: fw.deviceId, lastSeq: fw.lastSeq, ackedSeq: fw.ackedSeq, pendingSeqs: fw.pendingSeqs, evicted: fw.counters.evicted, resent: fw.counters.resent,
    }));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.continuing) clearImmediate(this.continuing);
    this.warmUp?.clear();
    this.redials.clear();
    await Promise.all(this.links.map((l) => l?.close()));
  }
}

/**
 * One device's link events, handed to the fleet with the device's slot: an object of two fields on
 * a shared prototype, where four closures and their context per device cost ~0.3 KB (issue 7).
 */
class SlotEvents implements LinkEvents {
  constructor(private readonly fleet: Fleet, private readonly slot: number) {}
  /** Where the device's link dials, asked again at each dial (link.ts `Endpoint`). */
  endpoint(): string {
    return this.fleet.endpointOf(this.slot);
  }
  onUp(): void {
    this.fleet.linkUp(this.slot);
  }
  onDown(): void {
    this.fleet.linkDown();
  }
  onAck(seq: number): void {
    this.fleet.linkAck(this.slot, seq);
  }
  onError(err: Error): void {
    this.fleet.linkError(this.slot, err);
  }
}
