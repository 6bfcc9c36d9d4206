/**
 * The reference bracelet that `vigil hil emulate` plays (docs/PROTOCOL.md "The reference
 * emulator"): what a PSEM or BAR perpetrator bracelet does with each serial command, and which
 * records it makes when. No I/O: hil/emulator.ts owns the port, the timers and the state file;
 * time is injected.
 *
 * - Clock: virtual, set by TIM (time + speed); it runs at `speed` from then on. Until the device
 *   has a clock and a device id (CFG) it makes no records and refuses stimuli (NAK refused).
 * - Records (DOMAIN.md cadences, sim/model/defaults.ts): a position every 60 s from the latest
 *   injected fix (the first one at once); a heartbeat when nothing was recorded for 180 s (30 s on a
 *   BAR unit); events at once: strap_tamper, charger_connected/…disconnected, sos (none on a BAR
 *   perpetrator unit: NAK refused). A battery set at or below 15 % is reported at once in a
 *   heartbeat (RULES.md low_battery: any record carries the level).
 * - Outbox: every record gets the next seq and is persisted before it is sent; it leaves the
 *   outbox only when AAK (the pipeline's application ack, relayed by the harness) covers it. Unacked
 *   records are sent again after a CFG (a harness that came back) and after the ack timeout.
 */
import { DEVICE_DEFAULTS, deviceConfigForSpeed } from '../sim/model/defaults.ts';
import { BRACELET_BATTERY } from '../sim/model/battery.ts';
import { SERIAL_PROTOCOL_VERSION, type SerialFrame } from '../protocol/serial-frame.ts';
import {
  helloFields, identityFields, parseAppAck, parseBattery, parseCharger, parseConfigure, parseEmpty, parseFix, parseSetTime, statusFields,
  type FixCommand, type SerialDeviceType, type SerialIdentity,
} from '../protocol/serial-messages.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { LinkRefusal } from './link.ts';

/** What survives a restart (the state file): the seq never goes back, unacked records are not lost. */
export interface EmulatorState {
  readonly v: 1;
  readonly serialNumber: string;
  readonly deviceType: SerialDeviceType;
  deviceId?: string;
  lastSeq: number;
  outbox: UplinkRecord[];
}

export interface EmulatedDeviceOptions {
  readonly state: EmulatorState;
  /** Called after every change of the state (a new record, an ack); must be durable when it returns. */
  readonly persist: (s: EmulatorState) => void;
  readonly realNow?: () => number;
}

const HOUR = 3_600_000;
export const EMULATOR_MODEL = 'Vigil reference bracelet (emulated)';
export const EMULATOR_FIRMWARE = '1.0.0';

export class EmulatedBracelet {
  readonly identity: SerialIdentity;
  private readonly state: EmulatorState;
  private readonly realNow: () => number;
  private clock: { time: number; speed: number; atReal: number } | undefined;
  private battery = { percent: 100, at: 0 };
  private charging = false;
  private fix: FixCommand | undefined;
  private nextPositionAt = Infinity;
  private lastRecordAt = -Infinity;
  /** Highest seq the harness has link-acknowledged since the last (re)send from the start. */
  private deliveredUpTo = 0;
  /** Real time of the last app-ack progress (or resend), for the ack timeout. */
  private ackProgressReal: number;
  /** Why the state could not be saved, for STA's self-test. */
  private persistError: string | undefined;
  /** Records pushed out of a full outbox (DOMAIN.md: a bounded buffer of ≥ 2,000). */
  evicted = 0;

  constructor(private readonly o: EmulatedDeviceOptions) {
    this.state = o.state;
    this.realNow = o.realNow ?? Date.now;
    this.ackProgressReal = this.realNow();
    this.identity = {
      serialNumber: o.state.serialNumber,
      model: EMULATOR_MODEL,
      firmwareVersion: EMULATOR_FIRMWARE,
      deviceTypes: [o.state.deviceType],
      followsVirtualTime: true,
      protocolVersion: SERIAL_PROTOCOL_VERSION,
    };
  }

  get lastSeq(): number {
    return this.state.lastSeq;
  }
  get outbox(): readonly UplinkRecord[] {
    return this.state.outbox;
  }

  /** HEL's fields, sent once after boot. */
  hello(): string[] {
    return helloFields({ serialNumber: this.identity.serialNumber, protocolVersion: SERIAL_PROTOCOL_VERSION, lastSeq: this.state.lastSeq });
  }

  /** Virtual now, or undefined before the first TIM. */
  now(): number | undefined {
    return this.clock && this.clock.time + (this.realNow() - this.clock.atReal) * this.clock.speed;
  }

  /** A command from the harness: the ACK's fields, or LinkRefusal / SerialPayloadError (NAK). */
  handle(f: SerialFrame): string[] {
    switch (f.type) {
      case 'IDN':
        parseEmpty('IDN', f.fields);
        return identityFields(this.identity);
      case 'STA':
        parseEmpty('STA', f.fields);
        return this.status();
      case 'CFG': {
        const c = parseConfigure(f.fields);
        if (c.deviceType !== this.state.deviceType) {
          throw new LinkRefusal('refused', `this unit is a ${this.state.deviceType}; it cannot play ${c.deviceType}`);
        }
        this.state.deviceId = c.deviceId;
        this.save();
        this.resendAll(); // a harness that (re)configures is a harness that is listening now
        return [];
      }
      case 'TIM': {
        const t = parseSetTime(f.fields);
        const before = this.now();
        this.clock = { time: t.time, speed: t.speed, atReal: this.realNow() };
        if (before === undefined) {
          this.battery = { percent: this.battery.percent, at: t.time };
          this.lastRecordAt = t.time;
        }
        return [];
      }
      case 'FIX': {
        const fix = parseFix(f.fields);
        const now = this.ready('FIX');
        if (!this.fix) this.nextPositionAt = now; // first fix since boot: reported at once
        this.fix = fix;
        return [];
      }
      case 'TMP':
        parseEmpty('TMP', f.fields);
        this.event(this.ready('TMP'), 'strap_tamper');
        return [];
      case 'BAT': {
        const percent = parseBattery(f.fields);
        const now = this.ready('BAT');
        this.battery = { percent, at: now };
        if (percent <= BRACELET_BATTERY.lowPercent) this.record(now, { type: 'heartbeat' });
        return [];
      }
      case 'CHG': {
        const connected = parseCharger(f.fields);
        const now = this.ready('CHG');
        this.battery = { percent: this.batteryAt(now), at: now };
        if (connected !== this.charging) {
          this.charging = connected;
          this.event(now, connected ? 'charger_connected' : 'charger_disconnected');
        }
        return [];
      }
      case 'SOS':
        parseEmpty('SOS', f.fields);
        if (this.state.deviceType === 'bar_perpetrator') throw new LinkRefusal('refused', 'a BAR perpetrator unit has no SOS button');
        this.event(this.ready('SOS'), 'sos');
        return [];
      case 'AAK':
        this.appAck(parseAppAck(f.fields));
        return [];
      default:
        throw new LinkRefusal('refused', `${f.type} is not a command a device takes`);
    }
  }

  /** Makes the records due by now, and rearms the resend after the ack timeout. */
  tick(): void {
    const now = this.now();
    if (now !== undefined && this.state.deviceId !== undefined) {
      const cfg = this.config();
      if (this.fix) {
        // A clock set far ahead would make a burst of catch-up fixes: report the current one instead.
        if (now - this.nextPositionAt > 10 * cfg.fixIntervalMs) this.nextPositionAt = now;
        while (this.nextPositionAt <= now) {
          const { lat, lon, accuracyM } = this.fix;
          this.record(this.nextPositionAt, { type: 'position', lat, lon, accuracy: accuracyM });
          this.nextPositionAt += cfg.fixIntervalMs;
        }
      }
      const heartbeatMs = this.state.deviceType === 'bar_perpetrator' ? cfg.barHeartbeatMs : cfg.heartbeatMs;
      if (now - this.lastRecordAt > 10 * heartbeatMs) this.lastRecordAt = now - heartbeatMs;
      while (this.lastRecordAt + heartbeatMs <= now) this.record(this.lastRecordAt + heartbeatMs, { type: 'heartbeat' });
    }
    const outstanding = this.state.outbox.length > 0 && this.nextToSend() === undefined;
    if (outstanding && this.realNow() - this.ackProgressReal >= this.ackTimeoutRealMs()) this.resendAll();
  }

  /** The next record to send on the link, in seq order; undefined when all were delivered. */
  nextToSend(): UplinkRecord | undefined {
    return this.state.outbox.find((r) => r.seq > this.deliveredUpTo);
  }

  /** The harness link-acknowledged record `seq`. */
  delivered(seq: number): void {
    // The ack timeout runs from the oldest unacked record's delivery.
    if (this.deliveredUpTo < (this.state.outbox[0]?.seq ?? Infinity)) this.ackProgressReal = this.realNow();
    this.deliveredUpTo = Math.max(this.deliveredUpTo, seq);
  }

  /** Sends the whole outbox again from its oldest record. */
  resendAll(): void {
    this.deliveredUpTo = 0;
    this.ackProgressReal = this.realNow();
  }

  private appAck(seq: number): void {
    const before = this.state.outbox.length;
    this.state.outbox = this.state.outbox.filter((r) => r.seq > seq);
    if (this.state.outbox.length !== before) {
      this.ackProgressReal = this.realNow();
      this.save();
    }
  }

  private status(): string[] {
    return statusFields({
      time: this.now() ?? 0,
      battery: this.now() === undefined ? this.battery.percent : this.batteryAt(this.now() as number),
      charging: this.charging,
      outbox: this.state.outbox.length,
      lastSeq: this.state.lastSeq,
      selfTest: this.persistError === undefined ? 'ok' : `state file: ${this.persistError}`,
    });
  }

  private config(): ReturnType<typeof deviceConfigForSpeed> {
    return deviceConfigForSpeed(this.clock?.speed ?? 1, DEVICE_DEFAULTS);
  }

  /** Real ms to wait for the app ack (defaults.ts: DOMAIN.md's 5 s, never under 2 s of real time). */
  private ackTimeoutRealMs(): number {
    const speed = this.clock?.speed ?? 1;
    return this.config().ackTimeoutMs / speed;
  }

  /** Virtual now, for a stimulus: refused until the device has its id and its clock. */
  private ready(type: string): number {
    const now = this.now();
    if (this.state.deviceId === undefined) throw new LinkRefusal('refused', `${type} before CFG: configure the device first`);
    if (now === undefined) throw new LinkRefusal('refused', `${type} before TIM: set the time first`);
    return now;
  }

  private batteryAt(t: number): number {
    const rate = this.charging ? DEVICE_DEFAULTS.batteryChargePerHour : -DEVICE_DEFAULTS.batteryDrainPerHour;
    return Math.round(Math.min(100, Math.max(0, this.battery.percent + (rate * (t - this.battery.at)) / HOUR)));
  }

  private event(now: number, event: string): void {
    this.record(now, { type: 'event', event });
  }

  private record(time: number, body: { type: 'heartbeat' } | { type: 'event'; event: string } | { type: 'position'; lat: number; lon: number; accuracy: number }): void {
    const r = { device: this.state.deviceId as string, seq: this.state.lastSeq + 1, time, battery: this.batteryAt(time), ...body } as UplinkRecord;
    this.state.lastSeq = r.seq;
    this.state.outbox.push(r);
    if (this.state.outbox.length > DEVICE_DEFAULTS.outboxLimit) {
      this.state.outbox.shift();
      this.evicted++;
    }
    this.lastRecordAt = Math.max(this.lastRecordAt, time);
    this.save();
  }

  private save(): void {
    try {
      this.o.persist(this.state);
      this.persistError = undefined;
    } catch (err) {
      this.persistError = (err as Error).message;
    }
  }
}
