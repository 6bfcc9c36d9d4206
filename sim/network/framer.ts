/**
 * MQTT framing of a TCP byte stream: packet boundaries from the fixed header, and the few fields
 * the proxy needs, read in place.
 *
 *   byte 0        type (4 bits) | flags (4 bits)                       [MQTT-2.2.1], [MQTT-2.2.2]
 *   bytes 1..4    remaining length, 7 bits per byte, low group first;  [MQTT-2.2.3]
 *                 bit 7 set = another byte follows (at most 4 bytes)
 *   then          remaining-length bytes: variable header + payload
 *
 * Hand-written rather than mqtt-packet's parser: that parser allocates an object per packet (and
 * copies topic and payload into it), while the proxy only needs boundaries, the packet type and, for
 * PUBLISH, topic suffix, QoS and packet id — 15,000 connections share one core with the fleet.
 */

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREL = 6;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** The stream is not MQTT: the connection carrying it must be closed. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}

export interface PacketSink {
  /**
   * One whole packet, `buf[start, end)`, its variable header at `bodyStart`. `buf` may be the
   * caller's chunk: valid during the call only, copy to keep.
   */
  packet(buf: Buffer, type: number, flags: number, start: number, bodyStart: number, end: number): void;
}

/** Splits one direction of one connection into packets; holds the bytes of an incomplete packet. */
export class MqttFramer {
  /** Copies of an incomplete packet's chunks; undefined while there is none (nearly always, so no array is kept). */
  private parts: Buffer[] | undefined;
  private partsLen = 0;
  /** Bytes the incomplete packet needs in all; 0 while its fixed header is itself incomplete. */
  private need = 0;

  /** Bytes held for an incomplete packet. */
  get pending(): number {
    return this.partsLen;
  }

  /**
   * Feeds a chunk: `sink.packet` for each complete packet, in order. Throws FramingError. The chunk
   * is never kept (what an incomplete packet needs is copied), so a caller may reuse its buffer
   * (a socket's `onread` buffer, sim/transport/lean-link.ts) once this returns.
   */
  push(chunk: Buffer, sink: PacketSink): void {
    let buf = chunk;
    if (this.partsLen > 0) {
      (this.parts ??= []).push(Buffer.from(chunk));
      this.partsLen += chunk.length;
      // A big packet in many chunks: concatenate once, when it is whole, not once per chunk.
      if (this.partsLen < this.need) return;
      buf = Buffer.concat(this.parts ?? [], this.partsLen);
      this.parts = undefined;
      this.partsLen = 0;
      this.need = 0;
    }
    const n = buf.length;
    let off = 0;
    while (n - off >= 2) {
      const b0 = buf[off]!;
      const type = b0 >> 4;
      if (type === 0) throw new FramingError(`reserved packet type 0 at byte ${off}`);
      if (type === PUBLISH && (b0 & 0x06) === 0x06) throw new FramingError('PUBLISH with QoS 3 [MQTT-3.3.1-4]');
      let len = 0;
      let mul = 1;
      let i = off + 1;
      let complete = false;
      for (let k = 0; k < 4 && i < n; k++) {
        const b = buf[i++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
        if (k === 3) throw new FramingError('remaining length longer than 4 bytes [MQTT-2.2.3]');
      }
      if (!complete) break;
      const end = i + len;
      if (end > n) {
        this.need = end - off;
        break;
      }
      sink.packet(buf, type, b0 & 0x0f, off, i, end);
      off = end;
    }
    if (off < n) {
      // Copy the tail: a subarray would pin the whole chunk for as long as the device is quiet.
      (this.parts ??= []).push(Buffer.from(buf.subarray(off)));
      this.partsLen = n - off;
    }
  }
}

/** A variable byte integer at `at` [MQTT-1.5.5]: its value and the offset after it. */
function readVarInt(buf: Buffer, at: number, end: number): { value: number; next: number } {
  let value = 0;
  let mul = 1;
  for (let k = 0; k < 4; k++) {
    if (at >= end) break;
    const b = buf[at++]!;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return { value, next: at };
  }
  throw new FramingError('malformed variable byte integer');
}

function u16(buf: Buffer, at: number, end: number): number {
  if (at + 2 > end) throw new FramingError('packet too short');
  return (buf[at]! << 8) | buf[at + 1]!;
}

const SLASH = 0x2f;
const LOWER_U = 0x75;
const LOWER_P = 0x70;

/** Where a PUBLISH's payload starts, or -1 when its topic does not end with `/up` (not an uplink). */
export function uplinkPayloadStart(buf: Buffer, flags: number, bodyStart: number, end: number, v5: boolean): number {
  const topicLen = u16(buf, bodyStart, end);
  const topicEnd = bodyStart + 2 + topicLen;
  if (topicEnd > end) throw new FramingError('PUBLISH topic past end of packet');
  if (topicLen < 3 || buf[topicEnd - 3] !== SLASH || buf[topicEnd - 2] !== LOWER_U || buf[topicEnd - 1] !== LOWER_P) return -1;
  let at = topicEnd + (((flags >> 1) & 3) > 0 ? 2 : 0);
  if (v5) {
    const props = readVarInt(buf, at, end);
    at = props.next + props.value;
  }
  if (at > end) throw new FramingError('PUBLISH header past end of packet');
  return at;
}

/** The packet id of a PUBLISH with QoS > 0 (after its topic) [MQTT-3.3.2.2]. */
export function publishPacketId(buf: Buffer, bodyStart: number, end: number): number {
  return u16(buf, bodyStart + 2 + u16(buf, bodyStart, end), end);
}

/** The packet id that starts the variable header of PUBREL, SUBSCRIBE, UNSUBSCRIBE. */
export function leadingPacketId(buf: Buffer, bodyStart: number, end: number): number {
  return u16(buf, bodyStart, end);
}

/**
 * How many topic filters a SUBSCRIBE (`options` = 1: each is followed by an options byte) or an
 * UNSUBSCRIBE (`options` = 0) carries [MQTT-3.8.3], [MQTT-3.10.3].
 */
export function topicFilterCount(buf: Buffer, bodyStart: number, end: number, v5: boolean, options: 0 | 1): number {
  let at = bodyStart + 2;
  if (v5) {
    const props = readVarInt(buf, at, end);
    at = props.next + props.value;
  }
  let count = 0;
  while (at < end) {
    at += 2 + u16(buf, at, end) + options;
    count++;
  }
  if (at !== end || count === 0) throw new FramingError('malformed topic filter list');
  return count;
}
