/**
 * The serial frame codec (docs/PROTOCOL.md "Serial protocol (HIL devices)"): pure, no I/O. The
 * framer (hil/framer.ts) cuts a byte stream into candidate lines; this file encodes and decodes one.
 *
 * Grammar (ABNF, RFC 5234), ASCII only:
 *
 *     frame   = "$" seq "," type *( "," field ) "*" crc CR LF
 *     seq     = "0" / ( %x31-39 0*2DIGIT )        ; 0–255, no leading zero, per direction, wraps
 *     type    = 3UPPER                            ; one of FRAME_TYPES
 *     field   = *( fchar / escape )
 *     fchar   = %x20-23 / %x25-29 / %x2B / %x2D-5D / %x5F-7E
 *                                                 ; printable ASCII except "$" "*" "," "^"
 *     escape  = "^" 2HEXDIG                       ; one byte (NMEA 0183 v4 style): "^2C" is ","
 *     crc     = 4HEXDIG                           ; CRC-16/CCITT-FALSE of the bytes between "$" and "*"
 *
 *     $17,FIX,48.85661,2.35222,8.5*D586\r\n
 *     └┬┘└┬┘ └──────────┬────────┘ └┬─┘
 *     seq type       fields        crc over "17,FIX,48.85661,2.35222,8.5"
 *
 * A raw "$" never occurs inside a frame (it is escaped), so a receiver that sees one starts a new
 * frame there: that is how it resynchronises after noise. A frame is at most MAX_FRAME_BYTES long,
 * "$" to "\n" included. CRC hex digits are sent uppercase and accepted in either case.
 */

/** Longest frame, "$" … "\r\n" included (docs/PROTOCOL.md): a record frame is ~80 bytes, so 512 leaves room. */
export const MAX_FRAME_BYTES = 512;
/** Serial protocol version, answered by IDN and sent in HEL. */
export const SERIAL_PROTOCOL_VERSION = 1;

/** Harness → device commands. */
export const COMMAND_TYPES = ['IDN', 'CFG', 'TIM', 'FIX', 'TMP', 'BAT', 'CHG', 'SOS', 'STA', 'AAK'] as const;
/** Device → harness messages (besides ACK/NAK). */
export const DEVICE_MESSAGE_TYPES = ['HEL', 'POS', 'HBT', 'EVT'] as const;
/** Link-level answers: they carry the seq of the frame they answer and are never answered themselves. */
export const ANSWER_TYPES = ['ACK', 'NAK'] as const;
export const FRAME_TYPES = [...COMMAND_TYPES, ...DEVICE_MESSAGE_TYPES, ...ANSWER_TYPES] as const;

export type CommandType = (typeof COMMAND_TYPES)[number];
export type DeviceMessageType = (typeof DEVICE_MESSAGE_TYPES)[number];
export type FrameType = (typeof FRAME_TYPES)[number];

export interface SerialFrame {
  /** 0–255. For ACK/NAK, the seq of the frame answered. */
  readonly seq: number;
  readonly type: FrameType;
  /** Unescaped field texts, in order. */
  readonly fields: readonly string[];
}

export type SerialFrameErrorReason = 'crc' | 'too_long' | 'malformed' | 'unknown_type';

/**
 * A candidate frame that is not a valid frame. `seq` is set when it could still be read (the
 * receiver then NAKs it, docs/PROTOCOL.md "ACK and NAK"); `reason` is also the NAK reason text.
 */
export class SerialFrameError extends Error {
  override readonly name = 'SerialFrameError';
  readonly code = 'VIGIL_SERIAL_FRAME_INVALID';
  constructor(readonly reason: SerialFrameErrorReason, detail: string, readonly seq?: number) {
    super(`invalid serial frame (${reason}): ${detail}`);
  }
}

const FRAME_TYPE_SET: ReadonlySet<string> = new Set(FRAME_TYPES);

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor ("123456789" → 0x29B1). */
export function crc16(bytes: Uint8Array | string): number {
  let crc = 0xffff;
  for (let i = 0; i < bytes.length; i++) {
    const b = typeof bytes === 'string' ? bytes.charCodeAt(i) & 0xff : (bytes[i] as number);
    crc ^= b << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Bytes that a field carries escaped: the frame's own delimiters, the escape mark, and anything not printable ASCII. */
function mustEscape(b: number): boolean {
  return b < 0x20 || b > 0x7e || b === 0x24 /* $ */ || b === 0x2a /* * */ || b === 0x2c /* , */ || b === 0x5e /* ^ */;
}

/** A field's text as it goes on the wire: UTF-8, each reserved byte as "^HH". */
export function escapeField(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += mustEscape(b) ? `^${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  return out;
}

function unescapeField(wire: string, seq: number): string {
  if (!wire.includes('^')) return wire;
  const bytes: number[] = [];
  for (let i = 0; i < wire.length; i++) {
    const c = wire.charCodeAt(i);
    if (c !== 0x5e) {
      bytes.push(c);
      continue;
    }
    const hex = wire.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new SerialFrameError('malformed', `"^" must be followed by two hex digits, got "${hex}"`, seq);
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  try {
    return utf8Strict.decode(new Uint8Array(bytes));
  } catch {
    throw new SerialFrameError('malformed', 'an escaped field is not UTF-8', seq);
  }
}

/** The frame's text, "$" … "\r\n" (ASCII: one char per byte). Throws RangeError on a bad seq, type or length. */
export function encodeFrame(frame: SerialFrame): string {
  if (!Number.isInteger(frame.seq) || frame.seq < 0 || frame.seq > 255) throw new RangeError(`frame seq must be 0–255, got ${frame.seq}`);
  if (!FRAME_TYPE_SET.has(frame.type)) throw new RangeError(`unknown frame type "${frame.type}"`);
  const body = [String(frame.seq), frame.type, ...frame.fields.map(escapeField)].join(',');
  const text = `$${body}*${crc16(body).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
  if (text.length > MAX_FRAME_BYTES) throw new RangeError(`a ${frame.type} frame of ${text.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte maximum`);
  return text;
}

const SEQ = /^(0|[1-9][0-9]{0,2})$/;
const CRC = /^[0-9A-Fa-f]{4}$/;

/** The seq of a candidate body when it can be read (for a NAK), else undefined. */
function readableSeq(body: string): number | undefined {
  // Without a comma the whole body is the seq text (slice(0, -1) would drop its last character:
  // "12" read as seq 1, a NAK for the wrong frame; found by protocol/serial-frame.fuzz.test.ts).
  const comma = body.indexOf(',');
  const head = comma < 0 ? body : body.slice(0, comma);
  if (!SEQ.test(head)) return undefined;
  const n = Number(head);
  return n <= 255 ? n : undefined;
}

/**
 * Decodes one frame. `line` is the frame as received, "$" … "\r\n" (the framer passes it with its
 * line end; a bare "\n" end is accepted too), as a Latin-1 string or bytes. Throws SerialFrameError.
 */
export function decodeFrame(line: string | Uint8Array): SerialFrame {
  if (line.length > MAX_FRAME_BYTES) throw new SerialFrameError('too_long', `${line.length} bytes, the maximum is ${MAX_FRAME_BYTES}`);
  const text = typeof line === 'string' ? line : String.fromCharCode(...line);
  if (!text.startsWith('$')) throw new SerialFrameError('malformed', 'a frame starts with "$"');
  const end = text.endsWith('\r\n') ? text.length - 2 : text.endsWith('\n') ? text.length - 1 : -1;
  if (end < 0) throw new SerialFrameError('malformed', 'a frame ends with "\\r\\n"');
  const star = text.lastIndexOf('*', end);
  const body = text.slice(1, star < 0 ? end : star);
  const seqHint = readableSeq(body);
  if (star < 0) throw new SerialFrameError('malformed', 'no "*" before the CRC', seqHint);
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x24 || c === 0x2a) {
      throw new SerialFrameError('malformed', `byte 0x${c.toString(16).padStart(2, '0')} at ${i + 1} must be escaped`, seqHint);
    }
  }
  const crcText = text.slice(star + 1, end);
  if (!CRC.test(crcText)) throw new SerialFrameError('malformed', `the CRC must be 4 hex digits, got "${crcText}"`, seqHint);
  const want = crc16(body);
  if (parseInt(crcText, 16) !== want) {
    throw new SerialFrameError('crc', `CRC ${crcText.toUpperCase()} does not match the content (${want.toString(16).toUpperCase().padStart(4, '0')})`, seqHint);
  }
  const parts = body.split(',');
  const [seqText, type] = parts;
  if (seqHint === undefined || seqText === undefined) throw new SerialFrameError('malformed', `the seq must be 0–255, got "${seqText ?? ''}"`);
  if (type === undefined || !/^[A-Z]{3}$/.test(type)) throw new SerialFrameError('malformed', `the type must be 3 uppercase letters, got "${type ?? ''}"`, seqHint);
  if (!FRAME_TYPE_SET.has(type)) throw new SerialFrameError('unknown_type', `unknown frame type "${type}"`, seqHint);
  return { seq: seqHint, type: type as FrameType, fields: parts.slice(2).map((f) => unescapeField(f, seqHint)) };
}
