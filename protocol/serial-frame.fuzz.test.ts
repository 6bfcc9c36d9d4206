/**
 * Fuzzing the serial frame codec (issue 8 item 7): any line — noise, a valid frame with bytes
 * flipped, cut or inserted, a correct CRC over a body that breaks the grammar, one too long —
 * decodes or gives a SerialFrameError; valid frames round-trip, whatever their fields hold.
 * The framer that cuts a byte stream into these lines is fuzzed in hil/framer.fuzz.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS } from '../test/support/fuzz.ts';
import { crc16, decodeFrame, encodeFrame, FRAME_TYPES, MAX_FRAME_BYTES, SerialFrameError, type SerialFrame } from './serial-frame.ts';

const frameArb: fc.Arbitrary<SerialFrame> = fc.record({
  seq: fc.integer({ min: 0, max: 255 }),
  type: fc.constantFrom(...FRAME_TYPES),
  fields: fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.stringMatching(/^[-0-9.A-Za-z]{0,12}$/)), { maxLength: 6 }),
});

/** The encoded frame, or undefined when its escaped fields make it longer than the maximum (the only RangeError encodeFrame may give here). */
function encoded(f: SerialFrame): string | undefined {
  try {
    return encodeFrame(f);
  } catch (err) {
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/exceeds the 512-byte maximum/);
    return undefined;
  }
}

/** Decodes, and returns the error instead of throwing it; anything but SerialFrameError goes on up and fails the property. */
const decodeOrError = (line: string | Uint8Array): SerialFrame | SerialFrameError => {
  try {
    return decodeFrame(line);
  } catch (err) {
    if (err instanceof SerialFrameError) return err;
    throw err;
  }
};

const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
const withCrc = (body: string): string => `$${body}*${crc16(body).toString(16).toUpperCase().padStart(4, '0')}\r\n`;

/** A valid frame's text with a few bytes changed, dropped or inserted: line noise. */
const damaged = fc.tuple(frameArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'drop', 'insert')), { minLength: 1, maxLength: 4 }))
  .map(([f, edits]) => {
    let text = encoded(f) ?? '$0,ACK*0000\r\n';
    for (const [at, byte, how] of edits) {
      const i = at % text.length;
      const c = String.fromCharCode(byte);
      text = how === 'flip' ? text.slice(0, i) + c + text.slice(i + 1) : how === 'drop' ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + c + text.slice(i);
    }
    return text;
  });
/** "$" + a body + its correct CRC: it passes the CRC, so the rest of the grammar is what gets tested. */
const crcCorrect = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('$', '*', ',', '^', '0', '1', '9', 'A', 'F', 'I', 'D', 'N', 'S', 'T'), maxLength: 30 }),
).map(withCrc);

describe('serial frame codec under fuzzing', () => {
  it('round-trips any frame that fits, as text and as bytes', () => {
    fc.assert(fc.property(frameArb, (f) => {
      const text = encoded(f);
      if (text === undefined) return;
      expect(text.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      expect(decodeFrame(text)).toEqual(f);
      expect(decodeFrame(Uint8Array.from(text, (c) => c.charCodeAt(0)))).toEqual(f);
    }), { numRuns: FUZZ_RUNS });
  });

  it('answers any line with a frame or a typed error: noise, damaged frames, a correct CRC over a bad body', () => {
    const line = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 600 }),
      fc.string({ unit: fc.constantFrom('$', '*', ',', '^', '\r', '\n', '0', '1', 'A', 'F', 'I', 'D', 'N'), maxLength: 40 }),
      fc.uint8Array({ maxLength: 600 }).map(latin1),
      fc.uint8Array({ maxLength: 600 }),
      damaged,
      crcCorrect,
    );
    fc.assert(fc.property(line, (l) => {
      const r = decodeOrError(l);
      if (r instanceof SerialFrameError) {
        expect(['crc', 'too_long', 'malformed', 'unknown_type']).toContain(r.reason);
        // A NAK names the seq only when it was there to read: "$<seq>" then "," or the CRC's "*".
        if (r.seq !== undefined) expect(typeof l === 'string' ? l : latin1(l)).toMatch(new RegExp(`^\\$${r.seq}[,*\\r\\n]`));
      } else {
        // A line that happens to be a valid frame is a frame like any other: canonical up to the CRC's case.
        const again = encoded(r);
        if (again !== undefined) expect(decodeFrame(again)).toEqual(r);
      }
    }), { numRuns: FUZZ_RUNS });
  });

  it('refuses every truncated frame', () => {
    fc.assert(fc.property(frameArb, fc.nat(), (f, cut) => {
      const text = encoded(f);
      if (text === undefined) return;
      expect(decodeOrError(text.slice(0, cut % text.length))).toBeInstanceOf(SerialFrameError);
    }), { numRuns: 3_000 });
  });

  it('never accepts a corrupted frame as a different one (any single byte changed)', () => {
    fc.assert(fc.property(frameArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (f, at, xor) => {
      const text = encoded(f);
      if (text === undefined) return;
      const i = at % text.length;
      const r = decodeOrError(text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ xor) + text.slice(i + 1));
      if (!(r instanceof SerialFrameError)) expect(r).toEqual(f); // only a CRC digit's case, or "\r" dropped to a bare "\n" end
    }), { numRuns: 5_000 });
  });

  it('refuses a line longer than the maximum as too_long, text or bytes', () => {
    fc.assert(fc.property(fc.integer({ min: MAX_FRAME_BYTES + 1, max: 10_000 }), (n) => {
      expect(decodeOrError(`$1,POS${','.repeat(n)}*0000\r\n`)).toMatchObject({ reason: 'too_long' });
      expect(decodeOrError(new Uint8Array(n).fill(0x24))).toMatchObject({ reason: 'too_long' });
    }), { numRuns: 200 });
  });
});
