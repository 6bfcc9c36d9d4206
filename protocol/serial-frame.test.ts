import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16, decodeFrame, encodeFrame, escapeField, FRAME_TYPES, MAX_FRAME_BYTES, SerialFrameError, type SerialFrame } from './serial-frame.ts';

const frameArb: fc.Arbitrary<SerialFrame> = fc.record({
  seq: fc.integer({ min: 0, max: 255 }),
  type: fc.constantFrom(...FRAME_TYPES),
  fields: fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 6 }),
});

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

  it('round-trips any frame that fits (10,000 random frames)', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        let text: string;
        try {
          text = encodeFrame(f);
        } catch (err) {
          // Only a frame past the maximum may be refused.
          expect(err).toBeInstanceOf(RangeError);
          expect((err as Error).message).toMatch(/exceeds the 512-byte maximum/);
          return;
        }
        expect(text.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
        expect(decodeFrame(text)).toEqual(f);
      }),
      { numRuns: 10_000 },
    );
  });

  it('answers random garbage with a typed error, never a crash (10,000 cases)', () => {
    const garbage = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 600 }),
      fc.string({ unit: fc.constantFrom('$', '*', ',', '^', '\r', '\n', '0', '1', 'A', 'F', 'I', 'D', 'N'), maxLength: 40 }),
      fc.uint8Array({ maxLength: 600 }).map((b) => String.fromCharCode(...b)),
    );
    fc.assert(
      fc.property(garbage, (line) => {
        const r = decodeOrReason(line);
        if (r instanceof SerialFrameError) {
          expect(['crc', 'too_long', 'malformed', 'unknown_type']).toContain(r.reason);
          if (r.seq !== undefined) expect(r.seq).toBeGreaterThanOrEqual(0);
        } else {
          // Garbage that happens to be a valid frame is a frame like any other.
          expect(decodeFrame(encodeFrame(r))).toEqual(r);
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('rejects every truncated frame', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), (f, cut) => {
        let text: string;
        try {
          text = encodeFrame(f);
        } catch {
          return;
        }
        const r = decodeOrReason(text.slice(0, cut % text.length));
        expect(r).toBeInstanceOf(SerialFrameError);
      }),
      { numRuns: 3_000 },
    );
  });

  it('never accepts a corrupted frame as a different one (any single byte changed)', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (f, at, xor) => {
        let text: string;
        try {
          text = encodeFrame(f);
        } catch {
          return;
        }
        const i = at % text.length;
        const corrupted = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ xor) + text.slice(i + 1);
        const r = decodeOrReason(corrupted);
        if (!(r instanceof SerialFrameError)) expect(r).toEqual(f); // only a CRC digit's case, or "\r" dropped to a bare "\n" end
      }),
      { numRuns: 5_000 },
    );
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
  });

  it('refuses to encode a frame it could not send', () => {
    expect(() => encodeFrame({ seq: 256, type: 'IDN', fields: [] })).toThrow(/seq must be 0–255/);
    expect(() => encodeFrame({ seq: 1, type: 'EVT', fields: ['x'.repeat(600)] })).toThrow(/exceeds the 512-byte maximum/);
  });
});
