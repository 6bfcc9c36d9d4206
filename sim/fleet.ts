/**
 * The virtual fleet: every planned device with its own firmware and its own MQTT connection, all
 * driven from one event loop by a wake queue in virtual time.
 */
import type { Clock } from '../protocol/clock.ts';
import { encodeBatch, type UplinkRecord } from '../protocol/uplink.ts';
import type { Firmware } from './model/firmware.ts';
import { WakeQueue } from './scheduler.ts';
import type { DeviceLink, LinkEvents } from './transport/link.ts';
import { mqttLink } from './transport/mqtt-link.ts';
import { rng } from './model/random.ts';

export interface FleetOptions {
  readonly brokerUrl: string;
  readonly clock: Clock;
  readonly firmwares: readonly Firmware[];
  readonly seed: number;
  /** Connections opened per real second while the fleet starts, so it does not connect in one burst. */
  readonly connectRatePerS: number;
  /** Every record a device makes, in its seq order, as it is made (oracle, journal). */
  readonly onRecord: (r: UplinkRecord) => void;
  /** A link error worth telling the user (not every reconnect). */
  readonly onLinkError?: (deviceId: string, err: Error) => void;
}

export interface FleetStats {
  connected: number;
  connects: number;
  disconnects: number;
  publishes: number;
  acks: number;
  linkErrors: number;
}

export interface DeviceProgress {
  readonly deviceId: string;
  readonly lastSeq: number;
  readonly ackedSeq: number;
  readonly pendingSeqs: readonly number[];
  readonly evicted: number;
}

const TICK_MS = 20;

export class Fleet {
  private readonly links: (DeviceLink | undefined)[] = [];
  private readonly queue = new WakeQueue();
  private timer: NodeJS.Timeout | undefined;
  private readonly connectTimers: NodeJS.Timeout[] = [];
  readonly stats: FleetStats = { connected: 0, connects: 0, disconnects: 0, publishes: 0, acks: 0, linkErrors: 0 };

  constructor(private readonly opts: FleetOptions) {}

  /** Schedules every device and opens the connections, spread over time. */
  start(): void {
    const { firmwares, connectRatePerS, seed } = this.opts;
    const jitter = rng(seed, 'connect-jitter');
    firmwares.forEach((fw, slot) => {
      this.queue.schedule(slot, fw.nextWakeAt());
      const delay = (slot / connectRatePerS) * 1000 + jitter.between(0, 1000 / connectRatePerS);
      this.connectTimers.push(setTimeout(() => this.connect(slot), delay));
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  private connect(slot: number): void {
    const fw = this.opts.firmwares[slot] as Firmware;
    const events: LinkEvents = {
      onUp: () => {
        this.stats.connected++;
        this.stats.connects++;
        fw.onLinkUp(this.opts.clock.now());
        this.queue.schedule(slot, Math.min(fw.nextWakeAt(), this.opts.clock.now()));
      },
      onDown: () => {
        this.stats.connected--;
        this.stats.disconnects++;
      },
      onAck: (seq) => {
        this.stats.acks++;
        fw.onAck(seq);
        this.queue.schedule(slot, fw.nextWakeAt());
      },
      onError: (err) => {
        this.stats.linkErrors++;
        this.opts.onLinkError?.(fw.deviceId, err);
      },
    };
    this.links[slot] = mqttLink(this.opts.brokerUrl, fw.deviceId, events, { reconnectMs: 1000 + (slot % 1000), keepaliveS: 60 });
  }

  private tick(): void {
    const now = this.opts.clock.now();
    for (const slot of this.queue.due(now)) {
      const fw = this.opts.firmwares[slot] as Firmware;
      const link = this.links[slot];
      const up = link?.connected ?? false;
      for (const batch of fw.wake(now, up, this.opts.onRecord)) {
        (link as DeviceLink).publish(encodeBatch(batch));
        this.stats.publishes++;
      }
      // Never at or before `now`: a device is woken at most once per tick.
      this.queue.schedule(slot, Math.max(fw.nextWakeAt(), now + 1));
    }
  }

  /** Unacked records across the fleet. */
  get pending(): number {
    let n = 0;
    for (const fw of this.opts.firmwares) n += fw.pending;
    return n;
  }

  progress(): DeviceProgress[] {
    return this.opts.firmwares.map((fw) => ({
      deviceId: fw.deviceId, lastSeq: fw.lastSeq, ackedSeq: fw.ackedSeq, pendingSeqs: fw.pendingSeqs, evicted: fw.counters.evicted,
    }));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const t of this.connectTimers) clearTimeout(t);
    await Promise.all(this.links.map((l) => l?.close()));
  }
}
