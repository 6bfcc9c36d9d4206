/**
 * Fuzzing the serial framer as a stream (issue 8 item 7): byte streams built of valid frames,
 * garbage, truncated frames, oversized runs and "$" storms, cut into random chunks. The framer
 * never throws, ends when its input ends (no hang: every event is out by then), accounts for every
 * byte, emits at most two events per "$" (plus one for trailing garbage), loses no valid frame
 * whatever surrounds it, and does not care how the bytes were chunked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FRAME_TYPES, MAX_FRAME_BYTES, type SerialFrame } from '../protocol/serial-frame.ts';
import { FUZZ_RUNS } from '../test/support/fuzz.ts';
import { SerialFramer, type FramerEvent } from './framer.ts';

/** Real ms a stream may take to end once its input has ended; far above what one needs (~0.1 ms). */
const END_WITHIN_MS = 2000;

/**
 * Writes the chunks, ends the stream, and returns every event in order; fails if the stream does
 * not end. The inter-byte timeout is set far beyond the test so that chunking alone decides.
 */
async function frameAll(chunks: readonly Uint8Array[]): Promise<FramerEvent[]> {
  const framer = new SerialFramer({ interByteTimeoutMs: 60_000 });
  const events: FramerEvent[] = [];
  framer.on('data', (e: FramerEvent) => events.push(e));
  let timer: NodeJS.Timeout | undefined;
  const ended = Promise.race([
    new Promise<void>((resolve) => framer.once('end', () => resolve())),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`the framer did not end within ${END_WITHIN_MS} ms of its input`)), END_WITHIN_MS); }),
  ]);
  for (const c of chunks) framer.write(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  framer.end();
  try {
    await ended;
  } finally {
    clearTimeout(timer);
  }
  return events;
}

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
const DOLLAR = 0x24;

const frameArb: fc.Arbitrary<SerialFrame> = fc.record({
  seq: fc.integer({ min: 0, max: 255 }),
  type: fc.constantFrom(...FRAME_TYPES),
  fields: fc.array(fc.stringMatching(/^[-0-9.A-Za-z ]{0,16}$/), { maxLength: 5 }),
});

/** One piece of a stream; `frame` marks a valid frame the framer must deliver. */
type Segment = { readonly bytes: Uint8Array; readonly frame?: SerialFrame };
const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 4, arbitrary: frameArb.map((frame) => ({ bytes: bytes(encodeFrame(frame)), frame })) },
  // Line noise between frames (no "$": a "$" would start a frame, which other segments do).
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => ({ bytes: b.filter((x) => x !== DOLLAR) })) },
  // Raw bytes, "$" and all.
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => ({ bytes: b })) },
  // A frame cut short: a device reset mid-frame.
  { weight: 2, arbitrary: fc.tuple(frameArb, fc.nat()).map(([f, n]) => { const t = encodeFrame(f); return { bytes: bytes(t.slice(0, 1 + (n % (t.length - 1)))) }; }) },
  // A "$" storm.
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }).map((n) => ({ bytes: new Uint8Array(n).fill(DOLLAR) })) },
  // A frame that never ends: past the maximum with no "\n".
  { weight: 1, arbitrary: fc.integer({ min: MAX_FRAME_BYTES - 2, max: 3 * MAX_FRAME_BYTES }).map((n) => ({ bytes: bytes(`$1,POS,${'9'.repeat(n)}`) })) },
);

/** A stream of segments, and where to cut its bytes into chunks. */
const stream = fc.tuple(fc.array(segment, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 })).map(([segments, cuts]) => {
  const all = new Uint8Array(segments.reduce((n, s) => n + s.bytes.length, 0));
  let at = 0;
  for (const s of segments) {
    all.set(s.bytes, at);
    at += s.bytes.length;
  }
  const points = [...new Set(cuts.map((c) => (all.length === 0 ? 0 : c % all.length)))].sort((a, b) => a - b);
  const chunks = [0, ...points].map((p, i, ps) => all.subarray(p, ps[i + 1] ?? all.length)).filter((c) => c.length > 0);
  return { segments, all, chunks };
});

describe('SerialFramer under fuzzing', () => {
  it('ends with its input, accounts for every byte, and emits at most two events per "$"', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(stream, fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }).map((chunks) => ({ chunks, all: Buffer.concat(chunks) }))), async ({ chunks, all }) => {
      const events = await frameAll(chunks);
      let seen = 0;
      for (const e of events) {
        seen += e.kind === 'frame' || e.kind === 'rejected' ? e.raw.length : e.bytes;
        if (e.kind === 'rejected') expect(e.error.code).toBe('VIGIL_SERIAL_FRAME_INVALID');
        if (e.kind === 'frame' || e.kind === 'rejected') expect(e.raw.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      }
      // Bytes skipped after an oversized frame are the only ones not reported one by one.
      if (!events.some((e) => e.kind === 'rejected' && e.error.reason === 'too_long')) expect(seen).toBe(all.length);
      else expect(seen).toBeLessThanOrEqual(all.length);
      const dollars = all.reduce((n, b) => n + (b === DOLLAR ? 1 : 0), 0);
      expect(events.length).toBeLessThanOrEqual(2 * dollars + 1);
    }), { numRuns: FUZZ_RUNS });
  });

  it('delivers every valid frame, in order, whatever noise, cut frames and storms surround it', async () => {
    await fc.assert(fc.asyncProperty(stream, async ({ segments, chunks }) => {
      const events = await frameAll(chunks);
      const got = events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
      // A subsequence: noise can itself happen to be a frame, but a planted frame is never lost.
      let i = 0;
      for (const want of segments.flatMap((s) => (s.frame ? [s.frame] : []))) {
        while (i < got.length && JSON.stringify(got[i]) !== JSON.stringify(want)) i++;
        expect(i, `frame ${JSON.stringify(want)} was lost`).toBeLessThan(got.length);
        i++;
      }
    }), { numRuns: 3_000 });
  });

  it('gives the same events however the bytes are chunked', async () => {
    await fc.assert(fc.asyncProperty(stream, async ({ all, chunks }) => {
      const summary = (events: FramerEvent[]) => events.map((e) => (e.kind === 'frame' || e.kind === 'rejected' ? `${e.kind}:${e.raw}` : `${e.kind}:${e.bytes}`));
      expect(summary(await frameAll(chunks))).toEqual(summary(await frameAll([all])));
    }), { numRuns: 2_000 });
  });
});
