/**
 * An in-memory `HilSession` (hil/api.ts) for the run side's tests: it logs every command it is
 * given, answers or refuses as told, and lets a test play the device — send records, go away and
 * come back. It makes no records by itself: a test says what the device sends.
 */
import type { HilDeviceType, HilIdentity, HilLinkStats, HilPortInfo, HilSession, HilStatus } from '../../hil/api.ts';
import type { UplinkRecord } from '../../protocol/uplink.ts';

export type FakeCommand =
  | { readonly cmd: 'configure'; readonly deviceId: string; readonly deviceType: HilDeviceType }
  | { readonly cmd: 'setTime'; readonly time: number; readonly speed: number }
  | { readonly cmd: 'fix'; readonly lat: number; readonly lon: number; readonly accuracyM: number }
  | { readonly cmd: 'tamper' }
  | { readonly cmd: 'battery'; readonly percent: number }
  | { readonly cmd: 'charger'; readonly connected: boolean }
  | { readonly cmd: 'sos' }
  | { readonly cmd: 'ack'; readonly seq: number };

export class FakeHilSession implements HilSession {
  readonly identity: HilIdentity;
  readonly port: HilPortInfo = { path: '/tmp/fake-pty', stablePath: '/dev/serial/by-id/fake' };
  readonly stats: HilLinkStats = { framesIn: 0, framesOut: 0, crcErrors: 0, garbageBytes: 0, oversizedFrames: 0, unknownFrames: 0, naksSent: 0, naksReceived: 0, retransmits: 0, timeouts: 0, reconnects: 0 };
  state: 'up' | 'down' = 'up';
  /** Every command the device acknowledged, in order. */
  readonly commands: FakeCommand[] = [];
  /** Commands refused while this returns an error message (as a device's NAK or a timeout would). */
  refuse: (c: FakeCommand) => string | undefined = () => undefined;
  closed = false;
  private readonly recordCbs = new Set<(r: UplinkRecord) => void>();
  private readonly stateCbs = new Set<(s: 'up' | 'down') => void>();

  constructor(identity: Partial<HilIdentity> = {}) {
    this.identity = {
      serialNumber: 'FAKE-0001', model: 'fake bracelet', firmwareVersion: '0.0.1', deviceTypes: ['psem', 'bar_perpetrator'],
      followsVirtualTime: true, protocolVersion: 1, ...identity,
    };
  }

  private do(c: FakeCommand): Promise<void> {
    if (this.state === 'down') return Promise.reject(new Error(`${c.cmd}: the device is away`));
    const refused = this.refuse(c);
    if (refused !== undefined) return Promise.reject(new Error(refused));
    this.commands.push(c);
    return Promise.resolve();
  }

  configure(c: { deviceId: string; deviceType: HilDeviceType }): Promise<void> {
    return this.do({ cmd: 'configure', ...c });
  }
  setTime(time: number, speed: number): Promise<void> {
    return this.do({ cmd: 'setTime', time, speed });
  }
  injectFix(f: { lat: number; lon: number; accuracyM: number }): Promise<void> {
    return this.do({ cmd: 'fix', ...f });
  }
  injectTamper(): Promise<void> {
    return this.do({ cmd: 'tamper' });
  }
  setBattery(percent: number): Promise<void> {
    return this.do({ cmd: 'battery', percent });
  }
  setCharger(connected: boolean): Promise<void> {
    return this.do({ cmd: 'charger', connected });
  }
  sos(): Promise<void> {
    return this.do({ cmd: 'sos' });
  }
  ack(seq: number): Promise<void> {
    return this.do({ cmd: 'ack', seq });
  }
  status(): Promise<HilStatus> {
    return Promise.resolve({ time: 0, battery: 100, charging: false, outbox: 0, lastSeq: 0, selfTest: 'ok' });
  }
  onRecord(cb: (r: UplinkRecord) => void): () => void {
    this.recordCbs.add(cb);
    return () => this.recordCbs.delete(cb);
  }
  onState(cb: (s: 'up' | 'down') => void): () => void {
    this.stateCbs.add(cb);
    return () => this.stateCbs.delete(cb);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  // ---- the test plays the device ----
  send(r: UplinkRecord): void {
    for (const cb of this.recordCbs) cb(r);
  }
  setState(s: 'up' | 'down'): void {
    this.state = s;
    if (s === 'up') this.stats.reconnects++;
    for (const cb of this.stateCbs) cb(s);
  }
  /** The commands of one kind. */
  sent<K extends FakeCommand['cmd']>(cmd: K): Extract<FakeCommand, { cmd: K }>[] {
    return this.commands.filter((c): c is Extract<FakeCommand, { cmd: K }> => c.cmd === cmd);
  }
}
