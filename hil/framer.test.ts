import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeFrame, MAX_FRAME_BYTES } from '../protocol/serial-frame.ts';
import { SerialFramer, type FramerEvent } from './framer.ts';

const idn = encodeFrame({ seq: 1, type: 'IDN', fields: [] });
const fix = encodeFrame({ seq: 2, type: 'FIX', fields: ['48.85661', '2.35222', '8.5'] });

/** Writes the chunks, ends the stream, and returns every event in order. */
async function frameAll(chunks: readonly (string | Buffer)[]): Promise<FramerEvent[]> {
  const framer = new SerialFramer();
  const events: FramerEvent[] = [];
  framer.on('data', (e: FramerEvent) => events.push(e));
  const ended = new Promise((r) => framer.on('end', r));
  for (const c of chunks) framer.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  framer.end();
  await ended;
  return events;
}

const kinds = (events: readonly FramerEvent[]): string[] =>
  events.map((e) => (e.kind === 'frame' ? `frame:${e.frame.type}` : e.kind === 'rejected' ? `rejected:${e.error.reason}` : `${e.kind}:${e.bytes}`));

afterEach(() => {
  vi.useRealTimers();
});

describe('SerialFramer', () => {
  it('reassembles a frame split over many chunks and splits merged frames', async () => {
    expect(kinds(await frameAll([idn.slice(0, 3), idn.slice(3, 7), idn.slice(7) + fix]))).toEqual(['frame:IDN', 'frame:FIX']);
    expect(kinds(await frameAll([...`${idn}${fix}`]))).toEqual(['frame:IDN', 'frame:FIX']);
  });

  it('counts garbage between frames and resynchronises on "$"', async () => {
    const events = await frameAll([`noise\r\n${idn}\x00\xff!!${fix}tail`]);
    expect(kinds(events)).toEqual(['garbage:7', 'frame:IDN', 'garbage:4', 'frame:FIX', 'garbage:4']);
  });

  it('cuts a frame that a new "$" interrupts (a device reset mid-frame)', async () => {
    expect(kinds(await frameAll([`${idn.slice(0, 6)}${fix}`]))).toEqual(['truncated:6', 'frame:FIX']);
  });

  it('rejects a bad CRC with the seq still readable, and goes on with the next frame', async () => {
    const bad = idn.replace(/\*[0-9A-F]{4}/, (m) => (m === '*0000' ? '*0001' : '*0000'));
    const events = await frameAll([bad + fix]);
    expect(kinds(events)).toEqual(['rejected:crc', 'frame:FIX']);
    expect(events[0]).toMatchObject({ kind: 'rejected', error: { seq: 1 } });
  });

  it('drops an oversized frame and the bytes up to the next "$"', async () => {
    const long = `$3,EVT,${'x'.repeat(MAX_FRAME_BYTES + 100)}*0000\r\n`;
    const events = await frameAll([long + idn]);
    expect(kinds(events)).toEqual(['rejected:too_long', 'frame:IDN']);
    expect(events[0]).toMatchObject({ error: { seq: 3 } });
  });

  it('drops a frame whose bytes stop for the inter-byte timeout', async () => {
    vi.useFakeTimers();
    const framer = new SerialFramer({ interByteTimeoutMs: 100 });
    const events: FramerEvent[] = [];
    framer.on('data', (e: FramerEvent) => events.push(e));
    framer.write(Buffer.from(idn.slice(0, 5)));
    await vi.advanceTimersByTimeAsync(60);
    framer.write(Buffer.from(idn.slice(5, 8)));
    await vi.advanceTimersByTimeAsync(60); // 60 ms since the last byte: still waiting
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(kinds(events)).toEqual(['truncated:8']);
    framer.write(Buffer.from(idn.slice(8))); // the late rest is garbage, not glued to a frame
    framer.write(Buffer.from(fix));
    await vi.advanceTimersByTimeAsync(0);
    expect(kinds(events)).toEqual(['truncated:8', `garbage:${idn.length - 8}`, 'frame:FIX']);
    framer.destroy();
  });
});
