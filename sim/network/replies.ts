/**
 * The packets an operator gateway forges under ack-then-lose: what the broker would have answered,
 * written by hand (a few bytes each). The lean link (sim/transport) writes its own PUBACKs with them.
 * MQTT 5 forms use the short encodings the spec allows: reason code omitted = success
 * [MQTT-3.4.2.1], properties length 0.
 */

export type FakeReply = 'connack' | 'puback' | 'pubrec' | 'pubcomp' | 'pingresp' | 'suback' | 'unsuback';

const PINGRESP = Buffer.from([0xd0, 0x00]);

/**
 * CONNACK accepting the connection (return / reason code 0) [MQTT-3.2.2]. Session Present as a broker
 * that keeps sessions answers: 1 to a device that asks to resume, 0 to a clean start [MQTT-3.2.2-1,
 * MQTT-3.2.2-2] (MQTT 5's Clean Start the same way).
 */
export function connack(v5: boolean, sessionPresent: boolean): Buffer {
  const sp = sessionPresent ? 0x01 : 0x00;
  return v5 ? Buffer.from([0x20, 0x03, sp, 0x00, 0x00]) : Buffer.from([0x20, 0x02, sp, 0x00]);
}

/** A packet that is its first byte and a packet id (PUBACK, PUBREC, PUBCOMP), written into `out` at `at`. */
function writeWithPacketId(out: Buffer, at: number, firstByte: number, packetId: number): void {
  out[at] = firstByte;
  out[at + 1] = 0x02;
  out.writeUInt16BE(packetId, at + 2);
}

function withPacketId(firstByte: number, packetId: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  writeWithPacketId(out, 0, firstByte, packetId);
  return out;
}

/** PUBACK [MQTT-3.4] written into a larger packet (a device's owed PUBACKs ride with its next one). */
export const writePuback = (out: Buffer, at: number, packetId: number): void => writeWithPacketId(out, at, 0x40, packetId);

export const puback = (packetId: number): Buffer => withPacketId(0x40, packetId);
export const pubrec = (packetId: number): Buffer => withPacketId(0x50, packetId);
export const pubcomp = (packetId: number): Buffer => withPacketId(0x70, packetId);
export const pingresp = (): Buffer => PINGRESP;

/** A packet of `type` with `body` after its fixed header (remaining length encoded [MQTT-2.2.3]). */
function packet(firstByte: number, body: Buffer): Buffer {
  const header = [firstByte];
  let len = body.length;
  do {
    let b = len % 128;
    len = Math.floor(len / 128);
    if (len > 0) b |= 0x80;
    header.push(b);
  } while (len > 0);
  return Buffer.concat([Buffer.from(header), body]);
}

/** SUBACK granting QoS 1 to each of `count` filters [MQTT-3.9.3]. */
export function suback(packetId: number, count: number, v5: boolean): Buffer {
  const head = v5 ? 3 : 2;
  const body = Buffer.alloc(head + count, 0x01);
  body.writeUInt16BE(packetId, 0);
  if (v5) body[2] = 0; // properties length
  return packet(0x90, body);
}

/** UNSUBACK; MQTT 5 adds one success reason code per filter [MQTT-3.11.3]. */
export function unsuback(packetId: number, count: number, v5: boolean): Buffer {
  const body = Buffer.alloc(v5 ? 3 + count : 2, 0);
  body.writeUInt16BE(packetId, 0);
  return packet(0xb0, body);
}
