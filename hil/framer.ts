/**
 * Cuts a serial byte stream into frames (docs/PROTOCOL.md "Framing"): a Transform with bytes in and
 * FramerEvents out (object mode), in the manner of @serialport's parsers — it holds a partial frame
 * between chunks and flushes what is left at the end.
 *
 *     … noise … $17,FIX,48.8,2.3,8.5*7FC1\r\n  $18,TMP*…\r\n
 *     └garbage┘ └────── one frame ─────────┘  └── next ──┘
 *
 * - A raw "$" always starts a frame (it is escaped inside one): bytes outside a frame are garbage,
 *   counted; a "$" inside a frame cuts the frame before it (truncated) and starts a new one.
 * - "\n" ends a frame; the codec (protocol/serial-frame.ts) then accepts or rejects it.
 * - A frame that grows past MAX_FRAME_BYTES without its "\n" is dropped (`too_long`) and the bytes up
 *   to the next "$" go with it.
 * - A frame whose bytes stop for `interByteTimeoutMs` (default 100 ms) is dropped (truncated): a
 *   device that reset mid-frame must not glue half a frame onto the next one's "$".
 *
 * Hand-written rather than @serialport/parser-delimiter + parser-inter-byte-timeout: the delimiter
 * parser neither resynchronises on "$" nor bounds a line, and the inter-byte parser splits on
 * silence only; composing them would still need this state machine.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { decodeFrame, MAX_FRAME_BYTES, SerialFrameError, type SerialFrame } from '../protocol/serial-frame.ts';

export type FramerEvent =
  /** A valid frame; `raw` is its text as received. */
  | { readonly kind: 'frame'; readonly frame: SerialFrame; readonly raw: string }
  /** A complete candidate the codec refused (crc, malformed, unknown type) or one that grew too long. */
  | { readonly kind: 'rejected'; readonly error: SerialFrameError; readonly raw: string }
  /** A frame cut short: by a new "$", by the inter-byte timeout, or by the end of the stream. */
  | { readonly kind: 'truncated'; readonly bytes: number }
  /** Bytes between frames, reported when the next frame starts (or at the end). */
  | { readonly kind: 'garbage'; readonly bytes: number };

export interface FramerOptions {
  /** Real ms of silence after which a partial frame is dropped (docs/PROTOCOL.md: 100 ms). */
  readonly interByteTimeoutMs?: number;
}

const DOLLAR = 0x24;
const NEWLINE = 0x0a;

export class SerialFramer extends Transform {
  private readonly buf = Buffer.alloc(MAX_FRAME_BYTES);
  private len = 0;
  /** In a frame: collecting bytes into buf. */
  private inFrame = false;
  /** Skipping the rest of an oversized frame up to the next "$". */
  private skipping = false;
  private garbage = 0;
  private readonly interByteTimeoutMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: FramerOptions = {}) {
    super({ readableObjectMode: true });
    this.interByteTimeoutMs = opts.interByteTimeoutMs ?? 100;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (const b of chunk) this.byte(b);
    this.armTimer();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.clearTimer();
    if (this.inFrame) this.dropPartial();
    this.reportGarbage();
    done();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.clearTimer();
    cb(err);
  }

  private byte(b: number): void {
    if (b === DOLLAR) {
      if (this.inFrame) this.dropPartial();
      this.reportGarbage();
      this.skipping = false;
      this.inFrame = true;
      this.buf[0] = b;
      this.len = 1;
      return;
    }
    if (this.skipping) return;
    if (!this.inFrame) {
      this.garbage++;
      return;
    }
    if (this.len === MAX_FRAME_BYTES) {
      const raw = this.buf.toString('latin1', 0, this.len);
      this.push({ kind: 'rejected', error: new SerialFrameError('too_long', `no line end within ${MAX_FRAME_BYTES} bytes`, seqOf(raw)), raw } satisfies FramerEvent);
      this.inFrame = false;
      this.skipping = true;
      return;
    }
    this.buf[this.len++] = b;
    if (b === NEWLINE) this.endFrame();
  }

  private endFrame(): void {
    const raw = this.buf.toString('latin1', 0, this.len);
    this.inFrame = false;
    this.len = 0;
    try {
      this.push({ kind: 'frame', frame: decodeFrame(raw), raw } satisfies FramerEvent);
    } catch (err) {
      if (!(err instanceof SerialFrameError)) throw err;
      this.push({ kind: 'rejected', error: err, raw } satisfies FramerEvent);
    }
  }

  private dropPartial(): void {
    this.push({ kind: 'truncated', bytes: this.len } satisfies FramerEvent);
    this.inFrame = false;
    this.len = 0;
  }

  private reportGarbage(): void {
    if (this.garbage === 0) return;
    this.push({ kind: 'garbage', bytes: this.garbage } satisfies FramerEvent);
    this.garbage = 0;
  }

  /** After each chunk: a frame left open must see its next byte within the inter-byte timeout. */
  private armTimer(): void {
    if (!this.inFrame) return this.clearTimer();
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.inFrame) this.dropPartial();
    }, this.interByteTimeoutMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The seq of a partial frame's text, when its "$<seq>," head is all there. */
function seqOf(raw: string): number | undefined {
  const m = /^\$(0|[1-9][0-9]{0,2}),/.exec(raw);
  return m && Number(m[1]) <= 255 ? Number(m[1]) : undefined;
}
