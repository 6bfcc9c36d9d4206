/**
 * A session with one HIL device (hil/api.ts HilSession): find its port, lock it, identify the
 * device, give it typed commands, wait for its records, log every byte, and come back after an
 * unplug or a reboot.
 *
 *            open + IDN ok
 *   (start) ─────────────────▶ up ◀─────────────────────────────┐
 *                              │ port closed / no answer to a    │ IDN answered, then CFG and TIM
 *                              │ command or keep-alive / HEL     │ sent again (the device resends
 *                              ▼ (the device rebooted)           │ its unacked outbox after CFG)
 *                             down ── every 500 ms: reopen the ──┘
 *                                     match if closed, send IDN
 *
 * Liveness: when the device has sent nothing for `keepAliveMs` the session asks STA; no answer
 * (after the link's retries) takes it down. Commands while down reject with VIGIL_HIL_DOWN.
 */
import { SerialPort } from 'serialport';
import type { SerialPortStream } from '@serialport/stream';
import type { HilIdentity, HilMatch, HilPortInfo, HilSession, HilStatus, ListHilPorts, OpenHilOptions, OpenHilSession } from './api.ts';
import { HilPortError, listHilPorts, resolveHilPort } from './discovery.ts';
import { describeMatch } from './match.ts';
import { HilError } from './errors.ts';
import { emptyStats, LinkRefusal, SerialLink, type LinkStats } from './link.ts';
import { openByteLog, type ByteLog } from './byte-log.ts';
import { SERIAL_PROTOCOL_VERSION, type FrameType, type SerialFrame } from '../protocol/serial-frame.ts';
import {
  appAckFields, batteryFields, chargerFields, configureFields, fixFields, parseHello, parseIdentity, parseRecord, parseStatus, setTimeFields,
  type ConfigureCommand, type RecordFrameType,
} from '../protocol/serial-messages.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { VigilError } from '../protocol/errors.ts';

/** How often a down session tries to come back (issue 5: "retry opening the same match every ~500 ms"). */
const RECONNECT_EVERY_MS = 500;
/** Records kept for expectRecord (a test's expectations look back over them). */
const HISTORY_LIMIT = 10_000;

export interface SessionDeps {
  readonly list: ListHilPorts;
  /** Opens a port with an exclusive lock; rejects with the binding's error. */
  readonly open: (path: string, baudRate: number) => Promise<SerialPortStream>;
}

function openLocked(path: string, baudRate: number): Promise<SerialPortStream> {
  return new Promise((resolve, reject) => {
    // lock: an exclusive flock(2) on the port (serialport's default, said out loud): two runs, or a
    // run and a terminal program, must never share a device.
    const port = new SerialPort({ path, baudRate, lock: true, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

const REAL_DEPS: SessionDeps = { list: listHilPorts, open: openLocked };

export interface ExpectOptions {
  /** Real ms (default 5000). */
  readonly timeoutMs?: number;
}

export interface DeviceSessionOptions extends OpenHilOptions {
  /** Real ms without a frame from the device before the session checks it with STA (default 1000). */
  readonly keepAliveMs?: number;
}

type Listener<T> = (v: T) => void;

export class DeviceSession implements HilSession {
  identity!: HilIdentity;
  port: HilPortInfo;
  readonly stats: LinkStats = emptyStats();
  state: 'up' | 'down' = 'down';

  private serial: SerialPortStream | undefined;
  private link: SerialLink | undefined;
  private readonly byteLog: ByteLog | undefined;
  private readonly recordListeners = new Set<Listener<UplinkRecord>>();
  private readonly stateListeners = new Set<Listener<'up' | 'down'>>();
  private readonly history: UplinkRecord[] = [];
  /** Index in history after the record the last expectRecord matched. */
  private expectFrom = 0;
  private readonly waiters = new Set<() => void>();
  private configured: ConfigureCommand | undefined;
  private clock: { time: number; speed: number; atReal: number } | undefined;
  private lastHeardReal = Date.now();
  private keepAlive: NodeJS.Timeout | undefined;
  private recovering = false;
  private closing = false;

  constructor(private readonly match: HilMatch, info: HilPortInfo, private readonly opts: DeviceSessionOptions, private readonly deps: SessionDeps) {
    this.port = info;
    this.byteLog = opts.byteLogFile ? openByteLog(opts.byteLogFile) : undefined;
  }

  /** Opens the port and identifies the device; on failure everything is closed again. */
  async start(): Promise<void> {
    try {
      await this.openPort();
      await this.identify(this.opts.retries);
    } catch (err) {
      await this.close();
      throw err;
    }
    this.setState('up');
    this.keepAlive = setInterval(() => this.checkAlive(), Math.max(100, (this.opts.keepAliveMs ?? 1000) / 2));
    this.keepAlive.unref();
  }

  // ---- commands ----

  async configure(c: ConfigureCommand): Promise<void> {
    await this.command('CFG', configureFields(c));
    this.configured = c;
  }

  async setTime(time: number, speed: number): Promise<void> {
    await this.command('TIM', setTimeFields({ time, speed }));
    this.clock = { time, speed, atReal: Date.now() };
  }

  async injectFix(fix: { readonly lat: number; readonly lon: number; readonly accuracyM: number }): Promise<void> {
    await this.command('FIX', fixFields(fix));
  }
  async injectTamper(): Promise<void> {
    await this.command('TMP', []);
  }
  async setBattery(percent: number): Promise<void> {
    await this.command('BAT', batteryFields(percent));
  }
  async setCharger(connected: boolean): Promise<void> {
    await this.command('CHG', chargerFields(connected));
  }
  async sos(): Promise<void> {
    await this.command('SOS', []);
  }
  async status(): Promise<HilStatus> {
    return this.parseAnswer('STA', await this.command('STA', []), parseStatus);
  }
  async ack(seq: number): Promise<void> {
    await this.command('AAK', appAckFields(seq));
  }

  // ---- records and state ----

  onRecord(cb: (r: UplinkRecord) => void): () => void {
    this.recordListeners.add(cb);
    return () => this.recordListeners.delete(cb);
  }

  onState(cb: (state: 'up' | 'down') => void): () => void {
    this.stateListeners.add(cb);
    return () => this.stateListeners.delete(cb);
  }

  /**
   * Waits for a record matching `pred` (pexpect style): the records since the previous match are
   * looked at first, then new ones as they come. Rejects with VIGIL_HIL_EXPECT_TIMEOUT, naming
   * what did arrive.
   */
  expectRecord(pred: (r: UplinkRecord) => boolean, o: ExpectOptions = {}): Promise<UplinkRecord> {
    const timeoutMs = o.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const scan = (): boolean => {
        for (let i = this.expectFrom; i < this.history.length; i++) {
          const r = this.history[i] as UplinkRecord;
          if (pred(r)) {
            this.expectFrom = i + 1;
            resolve(r);
            return true;
          }
        }
        return false;
      };
      if (scan()) return;
      const from = this.expectFrom;
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const seen = this.history.slice(from).map((r) => `${r.type}${r.type === 'event' ? `:${r.event}` : ''}#${r.seq}`);
        reject(new HilError('VIGIL_HIL_EXPECT_TIMEOUT', `no matching record from the device on ${this.port.path} within ${timeoutMs} ms (received meanwhile: ${seen.join(', ') || 'nothing'})`,
          'check the stimulus reached the device (byte log) and the device is configured and has the time', this.port.path));
      }, timeoutMs);
      const waiter = (): void => {
        if (scan()) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
        }
      };
      this.waiters.add(waiter);
    });
  }

  /** Every record received so far (bounded), oldest first. */
  get records(): readonly UplinkRecord[] {
    return this.history;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.keepAlive);
    await this.releasePort();
    await this.byteLog?.close();
    if (this.state === 'up') this.setState('down');
  }

  // ---- internals ----

  private async command(type: FrameType, fields: readonly string[]): Promise<string[]> {
    if (this.state === 'down' || !this.link) {
      throw new HilError('VIGIL_HIL_DOWN', `the device on ${this.port.path} is down (unplugged or restarting): ${type} was not sent`,
        'wait for the session to come back up (onState) and send again', this.port.path, type);
    }
    try {
      return await this.link.send(type, fields);
    } catch (err) {
      if (err instanceof HilError && err.code === 'VIGIL_HIL_NO_ANSWER') this.goDown();
      throw err;
    }
  }

  private parseAnswer<T>(type: string, fields: readonly string[], parse: (f: readonly string[]) => T): T {
    try {
      return parse(fields);
    } catch (err) {
      throw new HilError('VIGIL_HIL_BAD_ANSWER', `the device on ${this.port.path} answered ${type} with ${(err as Error).message}`,
        'the device does not speak docs/PROTOCOL.md as Vigil does: check its firmware and protocol version', this.port.path, type);
    }
  }

  private async openPort(): Promise<void> {
    const baudRate = this.opts.baudRate ?? 115200;
    let serial: SerialPortStream;
    try {
      serial = await this.deps.open(this.port.path, baudRate);
    } catch (err) {
      const msg = (err as Error).message;
      const ports = await this.deps.list().catch(() => []);
      if (/lock|busy|temporarily unavailable/i.test(msg)) {
        throw new HilPortError('VIGIL_HIL_PORT_BUSY', `${this.port.path} is in use by another program (${msg})`,
          'close the other program (another vigil run, a terminal such as screen or minicom) or pick another device', ports);
      }
      throw new HilPortError('VIGIL_HIL_PORT_NOT_FOUND', `cannot open ${this.port.path} (${msg})`, 'check the device is plugged in and you may open it (group dialout)', ports);
    }
    this.serial = serial;
    this.lastHeardReal = Date.now();
    this.link = new SerialLink(serial, {
      portName: this.port.path,
      onFrame: (f) => this.onFrame(f),
      ackTimeoutMs: this.opts.ackTimeoutMs,
      retries: this.opts.retries,
      stats: this.stats,
      tap: this.byteLog ? (dir, bytes) => this.byteLog?.write(dir, bytes) : undefined,
      onClose: () => {
        if (!this.closing) this.goDown();
      },
    });
    serial.on('close', () => {
      if (this.serial === serial) this.serial = undefined;
    });
  }

  private async releasePort(): Promise<void> {
    this.link?.close();
    this.link = undefined;
    const serial = this.serial;
    this.serial = undefined;
    if (serial?.isOpen) await new Promise<void>((r) => serial.close(() => r()));
  }

  private async identify(retries?: number): Promise<void> {
    const fields = await (this.link as SerialLink).send('IDN', [], retries === undefined ? {} : { retries });
    const id = this.parseAnswer('IDN', fields, parseIdentity);
    if (id.protocolVersion !== SERIAL_PROTOCOL_VERSION) {
      throw new HilError('VIGIL_HIL_BAD_ANSWER', `the device on ${this.port.path} speaks serial protocol version ${id.protocolVersion}; this Vigil speaks ${SERIAL_PROTOCOL_VERSION}`,
        'update the device firmware or Vigil so that both speak the same docs/PROTOCOL.md', this.port.path, 'IDN');
    }
    this.identity = id;
  }

  private onFrame(f: SerialFrame): string[] {
    this.lastHeardReal = Date.now();
    switch (f.type) {
      case 'POS':
      case 'HBT':
      case 'EVT':
        this.receive(parseRecord(f.type as RecordFrameType, f.fields));
        return [];
      case 'HEL':
        parseHello(f.fields);
        // The device booted: whatever it was told (configuration, time) is gone. Answer the HEL
        // first, then bring the session back up (after this handler returns).
        if (this.state === 'up') setImmediate(() => this.goDown());
        return [];
      default:
        throw new LinkRefusal('refused', `${f.type} is a harness command; a device does not send it`);
    }
  }

  private receive(r: UplinkRecord): void {
    this.history.push(r);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.length - HISTORY_LIMIT;
      this.history.splice(0, dropped);
      this.expectFrom = Math.max(0, this.expectFrom - dropped);
    }
    for (const cb of this.recordListeners) {
      try {
        cb(r);
      } catch (err) {
        this.opts.log?.(`hil ${this.port.path}: a record listener failed: ${(err as Error).message}`);
      }
    }
    for (const w of [...this.waiters]) w();
  }

  private checkAlive(): void {
    if (this.state !== 'up' || !this.link) return;
    if (Date.now() - this.lastHeardReal < (this.opts.keepAliveMs ?? 1000)) return;
    this.lastHeardReal = Date.now(); // one probe at a time
    this.command('STA', []).catch(() => undefined); // a failure takes the session down (command → goDown)
  }

  private setState(s: 'up' | 'down'): void {
    if (this.state === s) return;
    this.state = s;
    this.opts.log?.(`hil ${this.port.path}: ${s}`);
    for (const cb of this.stateListeners) cb(s);
  }

  private goDown(): void {
    if (this.closing) return;
    this.setState('down');
    if (this.recovering) return;
    this.recovering = true;
    void this.recover();
  }

  /** Down: every 500 ms, reopen the match if the port closed, and ask IDN; then restore configuration and time. */
  private async recover(): Promise<void> {
    while (!this.closing) {
      try {
        if (!this.serial?.isOpen || !this.link || this.link.isClosed) {
          await this.releasePort();
          this.port = await resolveHilPort(this.match, this.deps.list);
          await this.openPort();
          if (this.closing) break; // closed while the port was opening: let it go again
        }
        await this.identify(0);
        if (this.configured) await (this.link as SerialLink).send('CFG', configureFields(this.configured));
        if (this.clock) {
          // The device lost its clock with its reboot: give it the run's virtual now at the same speed.
          const now = this.clock.time + (Date.now() - this.clock.atReal) * this.clock.speed;
          await (this.link as SerialLink).send('TIM', setTimeFields({ time: now, speed: this.clock.speed }));
        }
        if (this.closing) break;
        this.recovering = false;
        this.stats.reconnects++;
        this.lastHeardReal = Date.now();
        this.setState('up');
        return;
      } catch (err) {
        if (!(err instanceof VigilError)) this.opts.log?.(`hil ${describeMatch(this.match)}: reconnect failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, RECONNECT_EVERY_MS));
      }
    }
    await this.releasePort();
    this.recovering = false;
  }
}

/** Opens a session with explicit dependencies (tests pass the mock binding's list and open). */
export async function openHilSessionWith(match: HilMatch, opts: DeviceSessionOptions, deps: SessionDeps): Promise<DeviceSession> {
  const info = await resolveHilPort(match, deps.list);
  const session = new DeviceSession(match, info, opts, deps);
  await session.start();
  return session;
}

/** hil/api.ts OpenHilSession: finds the port, locks it exclusively, opens it, identifies the device. */
export const openHilSession = ((match: HilMatch, opts: DeviceSessionOptions = {}) => openHilSessionWith(match, opts, REAL_DEPS)) satisfies OpenHilSession;
