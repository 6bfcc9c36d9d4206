import { afterEach, describe, expect, it } from 'vitest';
import { crc16, encodeFrame, type SerialFrame } from '../protocol/serial-frame.ts';
import { SerialPayloadError } from '../protocol/serial-messages.ts';
import { HilError } from './errors.ts';
import { LinkRefusal, SerialLink, type FrameHandler } from './link.ts';
import { MockFarEnd } from './test-support.ts';

const PATH = '/dev/serial/by-id/usb-Vigil_Mock-if00';
let far: MockFarEnd;
let link: SerialLink | undefined;

async function setUp(onFrame: FrameHandler = () => [], opts: { ackTimeoutMs?: number; retries?: number } = {}): Promise<SerialLink> {
  MockFarEnd.reset();
  far = await MockFarEnd.open(PATH);
  link = new SerialLink(far.port, { portName: PATH, onFrame, ackTimeoutMs: opts.ackTimeoutMs ?? 100, retries: opts.retries ?? 2 });
  return link;
}

afterEach(async () => {
  link?.close();
  link = undefined;
  await far.close();
});

const rejection = async (p: Promise<unknown>): Promise<HilError> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HilError);
  return err as HilError;
};

describe('SerialLink sending (harness → device)', () => {
  it('numbers frames, and resolves with the fields of the matching ACK', async () => {
    const l = await setUp();
    const answer = l.send('IDN', []);
    const f = await far.nextFrame();
    expect(f).toEqual({ seq: 0, type: 'IDN', fields: [] });
    far.send(7, 'ACK', ['ignored: wrong seq']);
    far.send(0, 'ACK', ['EMU-1', 'model']);
    expect(await answer).toEqual(['EMU-1', 'model']);
    const next = l.send('BAT', ['12']);
    expect(await far.nextFrame()).toEqual({ seq: 1, type: 'BAT', fields: ['12'] });
    far.send(1, 'ACK');
    expect(await next).toEqual([]);
    expect(l.stats).toMatchObject({ framesOut: 2, framesIn: 3, retransmits: 0 });
  });

  it('retransmits the same frame after the ACK timeout, then succeeds', async () => {
    const l = await setUp();
    const answer = l.send('TMP', []);
    const first = await far.nextFrame();
    const again = await far.nextFrame(1000); // no answer: the same seq comes again after ~100 ms
    expect(again).toEqual(first);
    far.send(first.seq, 'ACK');
    await answer;
    expect(l.stats).toMatchObject({ retransmits: 1, timeouts: 1 });
  });

  it('retransmits at once on a NAK for damaged bytes, and fails at once on a NAK it cannot fix', async () => {
    const l = await setUp(() => [], { ackTimeoutMs: 5000 });
    const fixed = l.send('FIX', ['48.8', '2.3', '5']);
    const f = await far.nextFrame();
    far.send(f.seq, 'NAK', ['crc', 'CRC 0000 does not match']);
    expect(await far.nextFrame(500)).toEqual(f); // long before the 5 s timeout
    far.send(f.seq, 'ACK');
    await fixed;

    const sos = l.send('SOS', []);
    const s = await far.nextFrame();
    far.send(s.seq, 'NAK', ['refused', 'a BAR perpetrator unit has no SOS button']);
    const err = await rejection(sos);
    expect(err.code).toBe('VIGIL_HIL_REFUSED');
    expect(err.message).toMatch(/refused SOS .*NAK refused — a BAR perpetrator unit has no SOS button/);
    expect(l.stats.naksReceived).toBe(2);
  });

  it('gives up on a device that stops answering: HilError naming the command and the port', async () => {
    const l = await setUp(() => [], { ackTimeoutMs: 40, retries: 2 });
    const started = Date.now();
    const err = await rejection(l.send('FIX', ['48.8', '2.3', '5']));
    expect(err.code).toBe('VIGIL_HIL_NO_ANSWER');
    expect(err.command).toBe('FIX');
    expect(err.port).toBe(PATH);
    expect(err.message).toContain(`the device on ${PATH} did not acknowledge FIX (frame 0) after 3 tries of 40 ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(l.stats).toMatchObject({ timeouts: 3, retransmits: 2, framesOut: 3 });
  });

  it('queues sends: one frame out at a time (stop-and-wait)', async () => {
    const l = await setUp();
    const a = l.send('TMP', []);
    const b = l.send('SOS', []);
    const fa = await far.nextFrame();
    await new Promise((r) => setTimeout(r, 30));
    expect(far.written().split('\n').filter(Boolean)).toHaveLength(1);
    far.send(fa.seq, 'ACK');
    const fb = await far.nextFrame();
    expect(fb).toMatchObject({ seq: 1, type: 'SOS' });
    far.send(fb.seq, 'ACK');
    await Promise.all([a, b]);
  });

  it('fails a frame too long to send without holding up the next one', async () => {
    const l = await setUp();
    const first = l.send('TMP', []);
    const tooLong = l.send('EVT', ['x'.repeat(600)]);
    const after = l.send('SOS', []);
    far.send((await far.nextFrame()).seq, 'ACK');
    await first;
    await expect(tooLong).rejects.toThrow(/exceeds the 512-byte maximum/);
    const f = await far.nextFrame();
    expect(f).toMatchObject({ type: 'SOS', seq: 1 }); // the refused frame used no seq
    far.send(f.seq, 'ACK');
    await after;
  });

  it('rejects what is pending with VIGIL_HIL_DOWN when the port closes', async () => {
    const l = await setUp(() => [], { ackTimeoutMs: 5000 });
    const pending = l.send('STA', []);
    await far.nextFrame();
    await far.close();
    expect((await rejection(pending)).code).toBe('VIGIL_HIL_DOWN');
    expect(l.isClosed).toBe(true);
  });
});

describe('SerialLink receiving (device → harness)', () => {
  const pos = ['psem-1', '5', '1635178200000', '71', '48.8', '2.3', '5'];

  it('ACKs each frame once handled, and answers a retransmit again without handling it twice', async () => {
    const seen: SerialFrame[] = [];
    const l = await setUp((f) => {
      seen.push(f);
      return [];
    });
    far.send(9, 'POS', pos);
    expect(await far.nextFrame()).toEqual({ seq: 9, type: 'ACK', fields: [] });
    far.send(9, 'POS', pos);
    expect(await far.nextFrame()).toEqual({ seq: 9, type: 'ACK', fields: [] });
    far.send(10, 'HBT', ['psem-1', '6', '1635178380000', '71']);
    expect(await far.nextFrame()).toMatchObject({ seq: 10, type: 'ACK' });
    expect(seen.map((f) => f.seq)).toEqual([9, 10]);
    expect(l.stats.duplicatesIn).toBe(1);
  });

  it('takes HEL as a new conversation even when its seq repeats the last one (a rebooted device)', async () => {
    const seen: string[] = [];
    await setUp((f) => {
      seen.push(f.type);
      return [];
    });
    far.send(0, 'HEL', ['EMU-1', '1', '4']);
    await far.nextFrame();
    far.send(0, 'HEL', ['EMU-1', '1', '4']);
    await far.nextFrame();
    expect(seen).toEqual(['HEL', 'HEL']);
  });

  it('NAKs a bad CRC with its seq, then handles the good retransmit', async () => {
    const seen: number[] = [];
    const l = await setUp((f) => {
      seen.push(f.seq);
      return [];
    });
    const good = encodeFrame({ seq: 3, type: 'POS', fields: pos });
    far.emit(good.replace(/\*[0-9A-F]{4}/, (m) => (m === '*0000' ? '*0001' : '*0000')));
    expect(await far.nextFrame()).toMatchObject({ seq: 3, type: 'NAK', fields: ['crc', expect.stringContaining('does not match')] });
    far.emit(good);
    expect(await far.nextFrame()).toEqual({ seq: 3, type: 'ACK', fields: [] });
    expect(seen).toEqual([3]);
    expect(l.stats).toMatchObject({ crcErrors: 1, naksSent: 1 });
  });

  it('counts garbage, split and merged frames, oversized and unknown frames, and never stops', async () => {
    const seen: number[] = [];
    const l = await setUp((f) => {
      seen.push(f.seq);
      return [];
    });
    const a = encodeFrame({ seq: 1, type: 'HBT', fields: ['psem-1', '1', '1000', '50'] });
    const b = encodeFrame({ seq: 2, type: 'HBT', fields: ['psem-1', '2', '2000', '50'] });
    const unknown = `$4,XYZ*${crc16('4,XYZ').toString(16).toUpperCase().padStart(4, '0')}\r\n`;
    far.emit(`\x00\x01junk${a.slice(0, 5)}`);
    far.emit(`${a.slice(5)}${b}`); // the rest of a, merged with b
    far.emit(`$3,EVT,${'y'.repeat(600)}*0000\r\n`);
    far.emit(unknown);
    far.emit(encodeFrame({ seq: 5, type: 'HBT', fields: ['psem-1', '3', '3000', '50'] }));
    const answers = [await far.nextFrame(), await far.nextFrame(), await far.nextFrame(), await far.nextFrame(), await far.nextFrame()];
    expect(answers.map((f) => `${f.type}${f.seq}${f.type === 'NAK' ? `:${f.fields[0]}` : ''}`)).toEqual(['ACK1', 'ACK2', 'NAK3:too_long', 'NAK4:unknown_type', 'ACK5']);
    expect(seen).toEqual([1, 2, 5]);
    expect(l.stats).toMatchObject({ garbageBytes: 6, oversizedFrames: 1, unknownFrames: 1, framesIn: 3, naksSent: 2 });
  });

  it('NAKs what the handler refuses, with the reason, and gives a retransmit the same NAK', async () => {
    await setUp((f) => {
      if (f.type === 'SOS') throw new LinkRefusal('refused', 'no SOS button');
      if (f.type === 'TMP') throw new TypeError('a bug');
      throw new SerialPayloadError(f.type, 'lat must be -90–90');
    });
    far.send(0, 'TMP');
    expect(await far.nextFrame()).toEqual({ seq: 0, type: 'NAK', fields: ['refused', 'internal error: a bug'] });
    far.send(1, 'SOS');
    expect(await far.nextFrame()).toEqual({ seq: 1, type: 'NAK', fields: ['refused', 'no SOS button'] });
    far.send(1, 'SOS');
    expect(await far.nextFrame()).toEqual({ seq: 1, type: 'NAK', fields: ['refused', 'no SOS button'] });
    far.send(2, 'FIX', ['91', '0', '1']);
    expect(await far.nextFrame()).toEqual({ seq: 2, type: 'NAK', fields: ['invalid', 'invalid FIX payload: lat must be -90–90'] });
  });
});
