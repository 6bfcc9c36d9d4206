/**
 * Drives one k6 VU's share of the fleet: each device its own firmware and its own MQTT client, all
 * on the VU's one event loop, woken from a wake queue in virtual time — what sim/fleet.ts `Fleet`
 * does in Node, over the xk6-mqtt client instead of a socket. The firmware calls are Fleet.tick's,
 * in the same order, so the records are the Node fleet's: `wake(now, linkUp, onRecord)` makes and
 * batches them, `onAck` takes the pipeline's application ack (store-and-forward) or the publish's
 * own completion (broker-ack, fire-and-forget), `nextWakeAt()` says when to come back, and
 * `takeReconnect()` asks for a fresh connection after the ack retries ran out.
 *
 * The k6 modules come in through `DriverHost`, so the same code runs under a stand-in in the tests.
 */
import type { Clock } from '../../protocol/clock.ts';
import { ackTopic, decodeAck, encodeBatch, upTopic, type UplinkRecord } from '../../protocol/uplink.ts';
import type { Firmware } from '../../sim/model/firmware.ts';
import { WakeQueue } from '../../sim/scheduler.ts';
import type { DeliveryModeName } from './export-config.ts';

/** Real ms between two drains of the wake queue (sim/fleet.ts uses the same). */
export const TICK_MS = 20;

/** What the driver needs of an xk6-mqtt `Client` (scenarios/k6/xk6-mqtt.d.ts). */
export interface MqttClientLike {
  on(event: 'connect' | 'reconnect' | 'end', listener: () => void): void;
  on(event: 'message', listener: (topic: string, payload: ArrayBuffer) => void): void;
  on(event: 'error', listener: (error: { message: string; method?: string }) => void): void;
  connectAsync(url: string, options: { keepalive: number; connect_timeout: number }): Promise<void>;
  subscribeAsync(topic: string, options: { qos: 0 | 1 }): Promise<void>;
  publishAsync(topic: string, payload: ArrayBuffer, options: { qos: 0 | 1 }): Promise<void>;
  reconnectAsync(): Promise<void>;
  endAsync(): Promise<void>;
}

type TimerId = unknown;

export interface DriverHost {
  newClient(clientId: string): MqttClientLike;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  setInterval(fn: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
  /** Real ms now (Date.now in k6). */
  realNow(): number;
}

export interface DriverDevice {
  readonly firmware: Firmware;
  readonly mode: DeliveryModeName;
  /** The device's place in the whole fleet: connects are spread by it across every instance. */
  readonly fleetIndex: number;
}

export interface DriverOptions {
  readonly brokerUrl: string;
  readonly keepaliveS: number;
  readonly connectRatePerS: number;
  /** Virtual end of the timeline: the firmwares make nothing after it. */
  readonly end: number;
  /** Real ms to wait past the end for the last acks. */
  readonly drainMs: number;
  readonly onRecord?: (r: UplinkRecord) => void;
  readonly log?: (line: string) => void;
}

export interface DriverStats {
  connects: number;
  records: number;
  publishes: number;
  publishErrors: number;
  acks: number;
  linkErrors: number;
  reconnects: number;
  /** Records still unacked when the VU stopped. */
  pendingAtStop: number;
}

/** Real ms before a device dials again after a failed connect (sim/fleet.ts: 1–2 s, spread by slot). */
const redialMs = (slot: number): number => 1000 + (slot % 1000);

/** The payload as the ArrayBuffer xk6-mqtt takes, without a copy when the bytes fill their buffer. */
function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
  return bytes.slice().buffer as ArrayBuffer;
}

export class DeviceDriver {
  readonly stats: DriverStats = { connects: 0, records: 0, publishes: 0, publishErrors: 0, acks: 0, linkErrors: 0, reconnects: 0, pendingAtStop: 0 };
  private readonly queue = new WakeQueue();
  private readonly clients: (MqttClientLike | undefined)[] = [];
  private readonly up: boolean[] = [];
  private readonly timers = new Set<TimerId>();
  private ticker: TimerId | undefined;
  private drainUntil: number | undefined;
  private stopped = false;
  private finish: (() => void) | undefined;

  constructor(private readonly devices: readonly DriverDevice[], private readonly clock: Clock, private readonly host: DriverHost, private readonly opts: DriverOptions) {}

  /** Connects every device (spread at the fleet's connect rate) and runs until drained. */
  run(): Promise<DriverStats> {
    const started = this.host.realNow();
    this.devices.forEach((d, slot) => {
      this.up[slot] = false;
      this.later(() => this.open(slot), (d.fleetIndex / this.opts.connectRatePerS) * 1000);
      this.queue.schedule(slot, d.firmware.nextWakeAt());
    });
    this.opts.log?.(`${this.devices.length} devices, connecting from ${new Date(started).toISOString()}`);
    return new Promise((resolve) => {
      this.finish = (): void => resolve(this.stats);
      this.ticker = this.host.setInterval(() => this.tick(), TICK_MS);
    });
  }

  private later(fn: () => void, ms: number): void {
    if (this.stopped) return;
    const id = this.host.setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.add(id);
  }

  private open(slot: number): void {
    const fw = (this.devices[slot] as DriverDevice).firmware;
    const client = this.host.newClient(fw.deviceId);
    this.clients[slot] = client;
    client.on('connect', () => {
      this.up[slot] = true;
      this.stats.connects++;
      const now = this.clock.now();
      fw.onLinkUp();
      this.queue.schedule(slot, Math.min(fw.nextWakeAt(), now));
      // xk6-mqtt (paho) always starts a clean session, so the ack subscription is made again on
      // every connect; an ack lost meanwhile is made good by the firmware's resend.
      client.subscribeAsync(ackTopic(fw.deviceId), { qos: 1 }).catch((err: unknown) => this.linkError(err));
    });
    client.on('reconnect', () => {
      this.up[slot] = false;
    });
    client.on('end', () => {
      this.up[slot] = false;
    });
    client.on('message', (_topic, payload) => {
      let ack: number;
      try {
        const msg = decodeAck(new Uint8Array(payload));
        if (msg.device !== fw.deviceId) return;
        ack = msg.ack;
      } catch (err) {
        this.linkError(err);
        return;
      }
      this.stats.acks++;
      if ((this.devices[slot] as DriverDevice).mode !== 'store-and-forward') return;
      fw.onAck(ack);
      this.queue.schedule(slot, fw.nextWakeAt());
    });
    client.on('error', (err) => {
      this.linkError(err);
      // With an error listener xk6-mqtt reports a failed connect here and resolves connectAsync.
      if (err.method === 'connect') this.redial(slot);
    });
    this.dial(slot);
  }

  private dial(slot: number): void {
    const client = this.clients[slot] as MqttClientLike;
    let pending: Promise<void>;
    try {
      pending = client.connectAsync(this.opts.brokerUrl, { keepalive: this.opts.keepaliveS, connect_timeout: 10_000 });
    } catch (err) {
      this.linkError(err);
      this.redial(slot);
      return;
    }
    pending.catch((err: unknown) => {
      this.linkError(err);
      this.redial(slot);
    });
  }

  private redial(slot: number): void {
    this.later(() => this.dial(slot), redialMs(slot));
  }

  private linkError(err: unknown): void {
    this.stats.linkErrors++;
    if (this.stats.linkErrors <= 10) this.opts.log?.(`link error: ${(err as { message?: string }).message ?? String(err)}`);
  }

  private tick(): void {
    const now = this.clock.now();
    for (const slot of this.queue.due(now)) {
      const { firmware: fw, mode } = this.devices[slot] as DriverDevice;
      const client = this.clients[slot];
      const up = this.up[slot] === true;
      for (const batch of fw.wake(now, up, (r) => this.record(r))) {
        const last = (batch[batch.length - 1] as UplinkRecord).seq;
        this.publish(client as MqttClientLike, fw.deviceId, encodeBatch(batch), mode === 'fire-and-forget' ? 0 : 1, mode === 'store-and-forward' ? undefined : (): void => {
          fw.onAck(last);
          this.queue.schedule(slot, fw.nextWakeAt());
        });
      }
      if (fw.takeReconnect() && client) {
        this.stats.reconnects++;
        this.up[slot] = false;
        client.reconnectAsync().catch((err: unknown) => {
          this.linkError(err);
          this.redial(slot);
        });
      }
      // Never at or before `now`: a device is woken at most once per tick.
      this.queue.schedule(slot, Math.max(fw.nextWakeAt(), now + 1));
    }
    this.checkDone(now);
  }

  private record(r: UplinkRecord): void {
    this.stats.records++;
    this.opts.onRecord?.(r);
  }

  private publish(client: MqttClientLike, deviceId: string, bytes: Uint8Array, qos: 0 | 1, forget: (() => void) | undefined): void {
    this.stats.publishes++;
    const failed = (err: unknown): void => {
      this.stats.publishErrors++;
      this.linkError(err);
    };
    try {
      // publishAsync, not publish: the synchronous one waits for the PUBACK and would stall every
      // other device of the VU meanwhile. A publish that fails is resent by the firmware's ack timeout.
      client.publishAsync(upTopic(deviceId), arrayBufferOf(bytes), { qos }).then(forget, failed);
    } catch (err) {
      failed(err); // not connected: xk6-mqtt throws at once
    }
  }

  /** Past the end, once every record is acked or the drain time is up: disconnect and stop. */
  private checkDone(now: number): void {
    if (now < this.opts.end) return;
    const realNow = this.host.realNow();
    this.drainUntil ??= realNow + this.opts.drainMs;
    const pending = this.devices.reduce((n, d) => n + d.firmware.pending, 0);
    if (pending > 0 && realNow < this.drainUntil) return;
    this.stats.pendingAtStop = pending;
    this.stopped = true;
    this.host.clearInterval(this.ticker);
    for (const id of this.timers) this.host.clearTimeout(id);
    this.timers.clear();
    const done = this.finish;
    // Promise.resolve().then: an end that throws at once must not keep the others from ending.
    const ends = this.clients.map((c) => Promise.resolve().then(() => c?.endAsync()).catch(() => undefined));
    Promise.all(ends).then(() => done?.(), () => done?.());
  }
}
