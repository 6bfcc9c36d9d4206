/**
 * The uplink: device → pipeline records, and the pipeline's application-level acknowledgement.
 * DESIGN.md "Uplink"; the user-facing contract is docs/PROTOCOL.md — keep the two in step.
 *
 * Topics (MQTT 3.1.1 or 5, QoS 1, client id = device id, persistent session):
 *   vigil/v1/devices/{deviceId}/up    device → pipeline, one JSON batch of records
 *   vigil/v1/devices/{deviceId}/ack   pipeline → device, highest contiguous seq durably stored
 *
 * A broker PUBACK proves nothing past the broker (the 2021 failure sat after it), so firmware keeps
 * a record until the pipeline's ack covers its seq.
 */

export const UPLINK_TOPIC_PREFIX = 'vigil/v1/devices/';
export const UPLINK_SUBSCRIPTION = 'vigil/v1/devices/+/up';

export function upTopic(deviceId: string): string {
  return `${UPLINK_TOPIC_PREFIX}${deviceId}/up`;
}

export function ackTopic(deviceId: string): string {
  return `${UPLINK_TOPIC_PREFIX}${deviceId}/ack`;
}

/** The device id of an `…/up` topic, or undefined when the topic is not an uplink topic. */
export function deviceOfUpTopic(topic: string): string | undefined {
  if (!topic.startsWith(UPLINK_TOPIC_PREFIX) || !topic.endsWith('/up')) return undefined;
  const id = topic.slice(UPLINK_TOPIC_PREFIX.length, -3);
  return DEVICE_ID.test(id) ? id : undefined;
}

/** Device ids: letters, digits, `-` and `_`, 1–64 characters (they are MQTT client ids and topic levels). */
export const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type RecordType = 'position' | 'heartbeat' | 'event';

interface RecordBase {
  /** Device id; must equal the topic's device id. */
  readonly device: string;
  /** Per-device sequence number, from 1, +1 per record; never goes back, survives reboots. */
  readonly seq: number;
  /** Device (virtual) time when the record was made, ms since epoch. */
  readonly time: number;
  /** Battery, percent 0–100. */
  readonly battery: number;
}

/** A GPS fix (WGS84 degrees), with the device's estimated horizontal accuracy in metres. */
export interface PositionRecord extends RecordBase {
  readonly type: 'position';
  readonly lat: number;
  readonly lon: number;
  readonly accuracy: number;
}

export interface HeartbeatRecord extends RecordBase {
  readonly type: 'heartbeat';
}

/** A device-side event (tamper, charger, …): the firmware sends it at once and retries until acked. */
export interface EventRecord extends RecordBase {
  readonly type: 'event';
  readonly event: string;
}

export type UplinkRecord = PositionRecord | HeartbeatRecord | EventRecord;

/** The payload of one `…/up` publish: a batch of one or more records of one device, in seq order. */
export interface UplinkBatch {
  readonly v: 1;
  readonly records: readonly UplinkRecord[];
}

/** The payload of one `…/ack` publish. */
export interface UplinkAck {
  readonly v: 1;
  readonly device: string;
  /** Highest seq such that every record 1..ack of this device is durably stored. */
  readonly ack: number;
}

/** A payload that is not a valid batch or ack: `reason` names the field and what was wrong. */
export class UplinkDecodeError extends Error {
  override readonly name = 'UplinkDecodeError';
  readonly code = 'VIGIL_UPLINK_INVALID';
  constructor(readonly reason: string) {
    super(`invalid uplink payload: ${reason}`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The JSON text of a batch: what encodeBatch encodes (a link may write it into its packet directly). */
export function batchJson(records: readonly UplinkRecord[]): string {
  const batch: UplinkBatch = { v: 1, records };
  return JSON.stringify(batch);
}

export function encodeBatch(records: readonly UplinkRecord[]): Uint8Array {
  return encoder.encode(batchJson(records));
}

export function encodeAck(device: string, ack: number): Uint8Array {
  return encoder.encode(ackJson(device, ack));
}

/** The ack's JSON text (encodeAck's bytes, before encoding): an MQTT client can write it as is, with no copy. */
export function ackJson(device: string, ack: number): string {
  const msg: UplinkAck = { v: 1, device, ack };
  return JSON.stringify(msg);
}

function parseJson(payload: Uint8Array | string): unknown {
  const text = typeof payload === 'string' ? payload : decoder.decode(payload);
  try {
    return JSON.parse(text);
  } catch {
    throw new UplinkDecodeError('not JSON');
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;
const isFiniteIn = (x: unknown, lo: number, hi: number): x is number =>
  typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;

// Hand-written rather than a schema library: this runs once per record on the pipeline's hot path
// (15,000 devices), and every failure must name its field.
function checkRecord(r: unknown, i: number, device: string | undefined): UplinkRecord {
  const at = `records[${i}]`;
  if (!isObject(r)) throw new UplinkDecodeError(`${at} is not an object`);
  if (typeof r.device !== 'string' || !DEVICE_ID.test(r.device)) throw new UplinkDecodeError(`${at}.device is not a device id`);
  if (device !== undefined && r.device !== device) {
    throw new UplinkDecodeError(`${at}.device "${r.device}" differs from the topic's device "${device}"`);
  }
  if (!isCount(r.seq)) throw new UplinkDecodeError(`${at}.seq must be an integer ≥ 1`);
  if (!isFiniteIn(r.time, 0, 8.64e15)) throw new UplinkDecodeError(`${at}.time must be ms since the epoch`);
  if (!isFiniteIn(r.battery, 0, 100)) throw new UplinkDecodeError(`${at}.battery must be 0–100`);
  switch (r.type) {
    case 'position':
      if (!isFiniteIn(r.lat, -90, 90)) throw new UplinkDecodeError(`${at}.lat must be -90–90`);
      if (!isFiniteIn(r.lon, -180, 180)) throw new UplinkDecodeError(`${at}.lon must be -180–180`);
      if (!isFiniteIn(r.accuracy, 0, 1e6)) throw new UplinkDecodeError(`${at}.accuracy must be metres ≥ 0`);
      return r as unknown as PositionRecord;
    case 'heartbeat':
      return r as unknown as HeartbeatRecord;
    case 'event':
      if (typeof r.event !== 'string' || r.event.length === 0) throw new UplinkDecodeError(`${at}.event must be a non-empty string`);
      return r as unknown as EventRecord;
    default:
      throw new UplinkDecodeError(`${at}.type must be position, heartbeat or event`);
  }
}

/** Decodes and validates one `…/up` payload; `device` (from the topic) must match every record. */
export function decodeBatch(payload: Uint8Array | string, device?: string): UplinkBatch {
  const x = parseJson(payload);
  if (!isObject(x)) throw new UplinkDecodeError('not an object');
  if (x.v !== 1) throw new UplinkDecodeError('v must be 1');
  if (!Array.isArray(x.records) || x.records.length === 0) throw new UplinkDecodeError('records must be a non-empty array');
  const records = x.records.map((r, i) => checkRecord(r, i, device));
  return { v: 1, records };
}

export function decodeAck(payload: Uint8Array | string): UplinkAck {
  const x = parseJson(payload);
  if (!isObject(x) || x.v !== 1) throw new UplinkDecodeError('v must be 1');
  if (typeof x.device !== 'string' || !DEVICE_ID.test(x.device)) throw new UplinkDecodeError('device is not a device id');
  if (typeof x.ack !== 'number' || !Number.isSafeInteger(x.ack) || x.ack < 0) throw new UplinkDecodeError('ack must be an integer ≥ 0');
  return { v: 1, device: x.device, ack: x.ack };
}
