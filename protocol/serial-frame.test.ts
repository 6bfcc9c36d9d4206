import { describe, expect, it } from 'vitest';
import { crc16, decodeFrame, encodeFrame, escapeField, MAX_FRAME_BYTES, SerialFrameError, type SerialFrame } from './serial-frame.ts';

/** Decodes, and returns the error's reason instead of throwing it; anything but SerialFrameError fails the test. */
function decodeOrReason(line: string): SerialFrame | SerialFrameError {
  try {
    return decodeFrame(line);
  } catch (err) {
    if (err instanceof SerialFrameError) return err;
    throw err;
  }
}

describe('serial frame codec', () => {
  it('computes CRC-16/CCITT-FALSE (the catalogue check value of "123456789" is 0x29B1)', () => {
    expect(crc16('123456789')).toBe(0x29b1);
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1);
    expect(crc16('')).toBe(0xffff);
  });

  it('encodes the documented example byte for byte', () => {
    const text = encodeFrame({ seq: 17, type: 'FIX', fields: ['48.85661', '2.35222', '8.5'] });
    const crc = crc16('17,FIX,48.85661,2.35222,8.5').toString(16).toUpperCase().padStart(4, '0');
    expect(text).toBe(`$17,FIX,48.85661,2.35222,8.5*${crc}\r\n`);
    expect(encodeFrame({ seq: 0, type: 'IDN', fields: [] })).toMatch(/^\$0,IDN\*[0-9A-F]{4}\r\n$/);
  });

  it('escapes the reserved characters and non-ASCII text, and reads them back', () => {
    expect(escapeField('a,b*c$d^e\r\n')).toBe('a^2Cb^2Ac^24d^5Ee^0D^0A');
    const f: SerialFrame = { seq: 3, type: 'EVT', fields: ['a,b*c$d^e\r\n', 'é€', ''] };
    expect(decodeFrame(encodeFrame(f))).toEqual(f);
  });

  it('names the reason, and the seq when it can be read', () => {
    const good = encodeFrame({ seq: 42, type: 'STA', fields: [] });
    const badCrc = good.replace(/\*[0-9A-F]{4}/, (m) => (m === '*0000' ? '*0001' : '*0000'));
    expect(decodeOrReason(badCrc)).toMatchObject({ reason: 'crc', seq: 42 });

    const withCrc = (body: string): string => `$${body}*${crc16(body).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
    expect(decodeOrReason(withCrc('42,XYZ,1'))).toMatchObject({ reason: 'unknown_type', seq: 42 });
    expect(decodeOrReason(withCrc('42,ack'))).toMatchObject({ reason: 'malformed', seq: 42 });
    expect(decodeOrReason(withCrc('256,STA'))).toMatchObject({ reason: 'malformed', seq: undefined });
    expect(decodeOrReason(withCrc('7,STA,a^2'))).toMatchObject({ reason: 'malformed', seq: 7 });

    expect(decodeOrReason(`$7,STA${'x'.repeat(MAX_FRAME_BYTES)}*0000\r\n`)).toMatchObject({ reason: 'too_long', seq: undefined });
    expect(decodeOrReason('$9,STA\r\n')).toMatchObject({ reason: 'malformed', seq: 9 });
    expect(decodeOrReason('$9,STA*12\r\n')).toMatchObject({ reason: 'malformed', seq: 9 });
    expect(decodeOrReason(withCrc('17'))).toMatchObject({ reason: 'malformed', seq: 17 });
  });

  it('reads no seq from a body without a comma that only starts like one (found by fuzzing)', () => {
    // "$0\0*189A": the seq text was read as the body minus its last character ("0"), so the NAK
    // would have named frame 0; likewise "$12*…" was read as seq 1.
    const withCrc = (body: string): string => `$${body}*${crc16(body).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
    expect(decodeOrReason('$0\u0000*189A\r\n')).toMatchObject({ reason: 'malformed', seq: undefined });
    expect(decodeOrReason(withCrc('12x'))).toMatchObject({ reason: 'malformed', seq: undefined });
  });

  it('refuses to encode a frame it could not send', () => {
    expect(() => encodeFrame({ seq: 256, type: 'IDN', fields: [] })).toThrow(/seq must be 0–255/);
    expect(() => encodeFrame({ seq: 1, type: 'EVT', fields: ['x'.repeat(600)] })).toThrow(/exceeds the 512-byte maximum/);
  });
});
