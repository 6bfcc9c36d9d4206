/**
 * The fields of each serial message (docs/PROTOCOL.md "Serial protocol (HIL devices)"), typed: what
 * the harness and a device put in a frame's fields and read back. Pure, no I/O; the frame itself is
 * serial-frame.ts.
 *
 * Numbers are decimal text as JavaScript prints them (`String(n)`: "48.85661", "1635178200000");
 * booleans are "0" / "1". A message whose fields do not fit is answered `NAK,invalid`.
 */
import { batchJson, decodeBatch, UplinkDecodeError, type UplinkRecord } from './uplink.ts';

/** The device types a serial device can play (hil/api.ts HilDeviceType). */
export const SERIAL_DEVICE_TYPES = ['psem', 'bar_perpetrator'] as const;
export type SerialDeviceType = (typeof SERIAL_DEVICE_TYPES)[number];

/** Fields that do not make the message they claim to be: the receiver NAKs with reason `invalid`. */
export class SerialPayloadError extends Error {
  override readonly name = 'SerialPayloadError';
  readonly code = 'VIGIL_SERIAL_PAYLOAD_INVALID';
  constructor(readonly type: string, detail: string) {
    super(`invalid ${type} payload: ${detail}`);
  }
}

/** IDN's answer (the ACK's fields): hil/api.ts HilIdentity. */
export interface SerialIdentity {
  readonly serialNumber: string;
  readonly model: string;
  readonly firmwareVersion: string;
  readonly deviceTypes: readonly SerialDeviceType[];
  readonly followsVirtualTime: boolean;
  readonly protocolVersion: number;
}

/** STA's answer (the ACK's fields): hil/api.ts HilStatus. */
export interface SerialStatus {
  readonly time: number;
  readonly battery: number;
  readonly charging: boolean;
  readonly outbox: number;
  readonly lastSeq: number;
  readonly selfTest: string;
}

/** HEL, the device's first frame after boot. */
export interface SerialHello {
  readonly serialNumber: string;
  readonly protocolVersion: number;
  readonly lastSeq: number;
}

const bool = (b: boolean): string => (b ? '1' : '0');

/** A field reader that names the message and field in its errors. */
class Fields {
  constructor(private readonly type: string, private readonly fields: readonly string[], names: readonly string[]) {
    if (fields.length !== names.length) {
      throw new SerialPayloadError(type, `expected ${names.length} field(s) (${names.join(', ') || 'none'}), got ${fields.length}`);
    }
  }
  text(i: number, name: string): string {
    const f = this.fields[i] as string;
    if (f.length === 0) throw new SerialPayloadError(this.type, `${name} is empty`);
    return f;
  }
  number(i: number, name: string, lo = -Infinity, hi = Infinity): number {
    const f = this.text(i, name);
    const n = Number(f);
    if (!/^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$/i.test(f) || !Number.isFinite(n) || n < lo || n > hi) {
      throw new SerialPayloadError(this.type, `${name} must be a number in ${lo}…${hi}, got "${f}"`);
    }
    return n;
  }
  int(i: number, name: string, lo: number, hi = Number.MAX_SAFE_INTEGER): number {
    const n = this.number(i, name, lo, hi);
    if (!Number.isSafeInteger(n)) throw new SerialPayloadError(this.type, `${name} must be a whole number, got "${this.fields[i]}"`);
    return n;
  }
  bool(i: number, name: string): boolean {
    const f = this.fields[i];
    if (f !== '0' && f !== '1') throw new SerialPayloadError(this.type, `${name} must be 0 or 1, got "${f}"`);
    return f === '1';
  }
  deviceType(i: number, name: string): SerialDeviceType {
    const f = this.text(i, name);
    if (!(SERIAL_DEVICE_TYPES as readonly string[]).includes(f)) throw new SerialPayloadError(this.type, `${name} must be ${SERIAL_DEVICE_TYPES.join(' or ')}, got "${f}"`);
    return f as SerialDeviceType;
  }
}

// ---- identity, status, hello ----

export function identityFields(id: SerialIdentity): string[] {
  return [id.serialNumber, id.model, id.firmwareVersion, id.deviceTypes.join(';'), bool(id.followsVirtualTime), String(id.protocolVersion)];
}

export function parseIdentity(fields: readonly string[]): SerialIdentity {
  const f = new Fields('IDN answer', fields, ['serialNumber', 'model', 'firmwareVersion', 'deviceTypes', 'followsVirtualTime', 'protocolVersion']);
  const deviceTypes = f.text(3, 'deviceTypes').split(';').map((t) => {
    if (!(SERIAL_DEVICE_TYPES as readonly string[]).includes(t)) throw new SerialPayloadError('IDN answer', `deviceTypes must be ${SERIAL_DEVICE_TYPES.join(' and/or ')} separated by ";", got "${t}"`);
    return t as SerialDeviceType;
  });
  return {
    serialNumber: f.text(0, 'serialNumber'),
    model: f.text(1, 'model'),
    firmwareVersion: f.text(2, 'firmwareVersion'),
    deviceTypes,
    followsVirtualTime: f.bool(4, 'followsVirtualTime'),
    protocolVersion: f.int(5, 'protocolVersion', 1),
  };
}

export function statusFields(s: SerialStatus): string[] {
  return [String(s.time), String(s.battery), bool(s.charging), String(s.outbox), String(s.lastSeq), s.selfTest];
}

export function parseStatus(fields: readonly string[]): SerialStatus {
  const f = new Fields('STA answer', fields, ['time', 'battery', 'charging', 'outbox', 'lastSeq', 'selfTest']);
  return {
    time: f.number(0, 'time', 0),
    battery: f.number(1, 'battery', 0, 100),
    charging: f.bool(2, 'charging'),
    outbox: f.int(3, 'outbox', 0),
    lastSeq: f.int(4, 'lastSeq', 0),
    selfTest: f.text(5, 'selfTest'),
  };
}

export function helloFields(h: SerialHello): string[] {
  return [h.serialNumber, String(h.protocolVersion), String(h.lastSeq)];
}

export function parseHello(fields: readonly string[]): SerialHello {
  const f = new Fields('HEL', fields, ['serialNumber', 'protocolVersion', 'lastSeq']);
  return { serialNumber: f.text(0, 'serialNumber'), protocolVersion: f.int(1, 'protocolVersion', 1), lastSeq: f.int(2, 'lastSeq', 0) };
}

// ---- records (device → harness) ----

/** The frame type that carries each record type. */
export const RECORD_FRAME_TYPE = { position: 'POS', heartbeat: 'HBT', event: 'EVT' } as const;
export type RecordFrameType = (typeof RECORD_FRAME_TYPE)[keyof typeof RECORD_FRAME_TYPE];

export function recordFields(r: UplinkRecord): string[] {
  const base = [r.device, String(r.seq), String(r.time), String(r.battery)];
  switch (r.type) {
    case 'position':
      return [...base, String(r.lat), String(r.lon), String(r.accuracy)];
    case 'heartbeat':
      return base;
    case 'event':
      return [...base, r.event];
  }
}

/** A POS, HBT or EVT frame's fields as an uplink record, checked exactly as the MQTT uplink checks it. */
export function parseRecord(type: RecordFrameType, fields: readonly string[]): UplinkRecord {
  const base = ['device', 'seq', 'time', 'battery'];
  const names = type === 'POS' ? [...base, 'lat', 'lon', 'accuracy'] : type === 'EVT' ? [...base, 'event'] : base;
  const f = new Fields(type, fields, names);
  const common = { device: f.text(0, 'device'), seq: f.int(1, 'seq', 1), time: f.number(2, 'time'), battery: f.number(3, 'battery') };
  const record: UplinkRecord =
    type === 'POS'
      ? { ...common, type: 'position', lat: f.number(4, 'lat'), lon: f.number(5, 'lon'), accuracy: f.number(6, 'accuracy') }
      : type === 'EVT'
        ? { ...common, type: 'event', event: f.text(4, 'event') }
        : { ...common, type: 'heartbeat' };
  // The same checks as a record that came over MQTT (protocol/uplink.ts): one definition of a valid
  // record. A JSON round trip costs nothing at serial rates.
  try {
    return decodeBatch(batchJson([record])).records[0] as UplinkRecord;
  } catch (err) {
    if (err instanceof UplinkDecodeError) throw new SerialPayloadError(type, err.reason.replace('records[0].', ''));
    throw err;
  }
}

// ---- commands (harness → device) ----

export interface ConfigureCommand {
  readonly deviceId: string;
  readonly deviceType: SerialDeviceType;
}
export const configureFields = (c: ConfigureCommand): string[] => [c.deviceId, c.deviceType];
export function parseConfigure(fields: readonly string[]): ConfigureCommand {
  const f = new Fields('CFG', fields, ['deviceId', 'deviceType']);
  const deviceId = f.text(0, 'deviceId');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(deviceId)) throw new SerialPayloadError('CFG', `deviceId must be 1–64 letters, digits, "-" or "_", got "${deviceId}"`);
  return { deviceId, deviceType: f.deviceType(1, 'deviceType') };
}

export interface SetTimeCommand {
  /** Virtual ms since the epoch. */
  readonly time: number;
  /** Virtual ms per real ms. */
  readonly speed: number;
}
export const setTimeFields = (c: SetTimeCommand): string[] => [String(c.time), String(c.speed)];
export function parseSetTime(fields: readonly string[]): SetTimeCommand {
  const f = new Fields('TIM', fields, ['time', 'speed']);
  const speed = f.number(1, 'speed', 0, 1e6);
  if (speed === 0) throw new SerialPayloadError('TIM', 'speed must be > 0');
  return { time: f.number(0, 'time', 0, 8.64e15), speed };
}

export interface FixCommand {
  readonly lat: number;
  readonly lon: number;
  readonly accuracyM: number;
}
export const fixFields = (c: FixCommand): string[] => [String(c.lat), String(c.lon), String(c.accuracyM)];
export function parseFix(fields: readonly string[]): FixCommand {
  const f = new Fields('FIX', fields, ['lat', 'lon', 'accuracy']);
  return { lat: f.number(0, 'lat', -90, 90), lon: f.number(1, 'lon', -180, 180), accuracyM: f.number(2, 'accuracy', 0, 1e6) };
}

export const batteryFields = (percent: number): string[] => [String(percent)];
export const parseBattery = (fields: readonly string[]): number => new Fields('BAT', fields, ['percent']).number(0, 'percent', 0, 100);

export const chargerFields = (connected: boolean): string[] => [bool(connected)];
export const parseCharger = (fields: readonly string[]): boolean => new Fields('CHG', fields, ['connected']).bool(0, 'connected');

export const appAckFields = (seq: number): string[] => [String(seq)];
export const parseAppAck = (fields: readonly string[]): number => new Fields('AAK', fields, ['seq']).int(0, 'seq', 0);

/** Commands and messages without fields (IDN, TMP, SOS, STA): any field is an error. */
export function parseEmpty(type: string, fields: readonly string[]): void {
  if (fields.length > 0) throw new SerialPayloadError(type, `expected no fields, got ${fields.length}`);
}
