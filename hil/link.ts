/**
 * The reliable link over one serial stream (docs/PROTOCOL.md "ACK, NAK and retransmit"), the same
 * code at both ends: the harness's session and the emulated device.
 *
 * Stop-and-wait per direction: each end has at most one unanswered frame out. At 115200 baud a
 * record frame takes under 10 ms, a device makes a record every few seconds at most, so a window
 * would buy nothing but buffers and reordering logic in the firmware; stop-and-wait keeps the device
 * side to one retransmit buffer and one "last seq received" (PROTOCOL.md says so to firmware teams).
 *
 * - `send` numbers a frame (0–255, wraps), writes it, and waits for ACK/NAK of that seq. It
 *   retransmits the same bytes after `ackTimeoutMs` or a transmission NAK (crc, malformed,
 *   too_long), up to `retries` times, then rejects with HilError VIGIL_HIL_NO_ANSWER naming the
 *   command and port. A NAK for a reason a retransmit cannot fix (unknown_type, invalid, refused)
 *   rejects at once with VIGIL_HIL_REFUSED. Sends queue behind each other.
 * - A frame received is answered: ACK with the handler's answer fields, or NAK with the reason. A
 *   frame with the same seq as the previous one is a retransmit (our ACK was lost): it gets the
 *   same answer again and is not handed to the handler twice. HEL and IDN are never duplicates:
 *   they start a conversation afresh after a reboot or a reconnection (either end may then reuse a seq).
 * - A frame the framer rejects is counted; a NAK goes back when its seq is readable.
 */
import type { Duplex } from 'node:stream';
import type { HilLinkStats } from './api.ts';
import { HilError } from './errors.ts';
import { SerialFramer, type FramerEvent } from './framer.ts';
import { encodeFrame, type FrameType, type SerialFrame } from '../protocol/serial-frame.ts';
import { SerialPayloadError } from '../protocol/serial-messages.ts';

/** NAK reasons (docs/PROTOCOL.md): the framer's, plus `invalid` fields and `refused` commands. */
export type NakReason = 'crc' | 'too_long' | 'malformed' | 'unknown_type' | 'invalid' | 'refused';
/** Reasons a retransmit can fix: the bytes were damaged on the way. */
const RETRYABLE: ReadonlySet<string> = new Set(['crc', 'too_long', 'malformed']);
/** Frames that restart a conversation: never taken for a retransmit of the frame before them. */
const RESET_TYPES: ReadonlySet<FrameType> = new Set(['HEL', 'IDN']);

/** A handler's way to say no: the frame is answered NAK with this reason. */
export class LinkRefusal extends Error {
  override readonly name = 'LinkRefusal';
  constructor(readonly reason: NakReason, detail: string) {
    super(detail);
  }
}

/** What an end does with a frame from the other end: returns the ACK's fields, or throws LinkRefusal / SerialPayloadError. */
export type FrameHandler = (frame: SerialFrame) => readonly string[];

export function emptyLinkStats(): HilLinkStats {
  return {
    framesIn: 0, framesOut: 0, crcErrors: 0, garbageBytes: 0, oversizedFrames: 0, unknownFrames: 0,
    naksSent: 0, naksReceived: 0, retransmits: 0, timeouts: 0, reconnects: 0,
  };
}

/** Counters past hil/api.ts HilLinkStats (added fields): malformed and truncated frames, duplicates received. */
export interface LinkStats extends HilLinkStats {
  malformedFrames: number;
  truncatedFrames: number;
  duplicatesIn: number;
}

export function emptyStats(): LinkStats {
  return { ...emptyLinkStats(), malformedFrames: 0, truncatedFrames: 0, duplicatesIn: 0 };
}

export interface LinkOptions {
  /** The port's name, for errors. */
  readonly portName: string;
  readonly onFrame: FrameHandler;
  /** Real ms to wait for an ACK (docs/PROTOCOL.md default 500). */
  readonly ackTimeoutMs?: number;
  /** Retransmits before a send fails (default 3). */
  readonly retries?: number;
  /** Shared across the links of one session (a reconnection makes a new link). */
  readonly stats?: LinkStats;
  readonly interByteTimeoutMs?: number;
  /** Every byte written ('out') and read ('in'), for the byte log. */
  readonly tap?: (direction: 'in' | 'out', bytes: Buffer) => void;
  /** The stream closed or failed: the link is dead. */
  readonly onClose?: (err?: Error) => void;
}

export interface SendOptions {
  readonly retries?: number;
  readonly ackTimeoutMs?: number;
}

interface Outstanding {
  readonly seq: number;
  readonly type: FrameType;
  readonly bytes: Buffer;
  readonly retries: number;
  readonly ackTimeoutMs: number;
  attempt: number;
  timer?: NodeJS.Timeout;
  readonly resolve: (fields: string[]) => void;
  readonly reject: (err: Error) => void;
}

interface Answer {
  readonly seq: number;
  readonly bytes: Buffer;
}

function ignore(): void {}

export class SerialLink {
  readonly stats: LinkStats;
  private readonly framer: SerialFramer;
  private nextSeq = 0;
  private outstanding: Outstanding | undefined;
  private readonly queue: (() => void)[] = [];
  /** The last frame received and the answer it got (to answer a retransmit alike). */
  private lastAnswer: Answer | undefined;
  private closed = false;
  private readonly ackTimeoutMs: number;
  private readonly retries: number;

  constructor(private readonly stream: Duplex, private readonly opts: LinkOptions) {
    this.stats = opts.stats ?? emptyStats();
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 500;
    this.retries = opts.retries ?? 3;
    this.framer = new SerialFramer({ interByteTimeoutMs: opts.interByteTimeoutMs });
    this.framer.on('data', (e: FramerEvent) => this.onFramerEvent(e));
    stream.on('data', this.onData);
    stream.on('close', this.onStreamClose);
    stream.on('error', this.onStreamError);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one frame and resolves with the fields of its ACK. */
  send(type: FrameType, fields: readonly string[], o: SendOptions = {}): Promise<string[]> {
    if (this.closed) return Promise.reject(this.downError(type));
    return new Promise((resolve, reject) => {
      const start = (): void => {
        if (this.closed) return reject(this.downError(type));
        const seq = this.nextSeq;
        let bytes: Buffer;
        try {
          bytes = Buffer.from(encodeFrame({ seq, type, fields }), 'latin1');
        } catch (err) {
          reject(err as Error); // a frame that cannot be sent (too long): this send fails, the next goes
          this.queue.shift()?.();
          return;
        }
        this.nextSeq = (this.nextSeq + 1) % 256;
        this.outstanding = {
          seq, type, bytes, retries: o.retries ?? this.retries, ackTimeoutMs: o.ackTimeoutMs ?? this.ackTimeoutMs, attempt: 0, resolve, reject,
        };
        this.transmit();
      };
      if (this.outstanding) this.queue.push(start);
      else start();
    });
  }

  /** Stops the link: pending and queued sends reject with VIGIL_HIL_DOWN. The stream is not closed. */
  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.off('data', this.onData);
    this.stream.off('close', this.onStreamClose);
    this.stream.off('error', this.onStreamError);
    // A write still on its way fails once the port is gone ("Write canceled"); the link is already
    // down and has said so: that error must not become an uncaught exception.
    this.stream.on('error', ignore);
    this.framer.destroy();
    const pending = this.outstanding;
    this.outstanding = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(this.downError(pending.type));
    }
    for (const start of this.queue.splice(0)) start();
    this.opts.onClose?.(err);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.opts.tap?.('in', chunk);
    this.framer.write(chunk);
  };
  private readonly onStreamClose = (): void => this.close();
  private readonly onStreamError = (err: Error): void => this.close(err);

  private downError(type: FrameType): HilError {
    return new HilError('VIGIL_HIL_DOWN', `the link to ${this.opts.portName} is closed: ${type} was not delivered`,
      'the device was unplugged or the port closed; wait for the session to come back up and send again', this.opts.portName, type);
  }

  private write(bytes: Buffer): void {
    this.stats.framesOut++;
    this.opts.tap?.('out', bytes);
    this.stream.write(bytes);
  }

  private transmit(): void {
    const o = this.outstanding;
    if (!o) return;
    if (o.attempt > 0) this.stats.retransmits++;
    o.attempt++;
    this.write(o.bytes);
    clearTimeout(o.timer);
    o.timer = setTimeout(() => {
      this.stats.timeouts++;
      this.retryOrFail(o, 'no answer');
    }, o.ackTimeoutMs);
  }

  private retryOrFail(o: Outstanding, why: string): void {
    if (this.outstanding !== o) return;
    if (o.attempt <= o.retries) return this.transmit();
    this.finish(o, new HilError('VIGIL_HIL_NO_ANSWER',
      `the device on ${this.opts.portName} did not acknowledge ${o.type} (frame ${o.seq}) after ${o.attempt} tries of ${o.ackTimeoutMs} ms (last: ${why})`,
      'check that the device is powered, runs firmware that speaks docs/PROTOCOL.md, and that the cable and baud rate are right', this.opts.portName, o.type));
  }

  private finish(o: Outstanding, result: Error | string[]): void {
    clearTimeout(o.timer);
    this.outstanding = undefined;
    if (result instanceof Error) o.reject(result);
    else o.resolve(result);
    this.queue.shift()?.();
  }

  private onFramerEvent(e: FramerEvent): void {
    switch (e.kind) {
      case 'garbage':
        this.stats.garbageBytes += e.bytes;
        return;
      case 'truncated':
        this.stats.truncatedFrames++;
        return;
      case 'rejected': {
        const reason = e.error.reason;
        if (reason === 'crc') this.stats.crcErrors++;
        else if (reason === 'too_long') this.stats.oversizedFrames++;
        else if (reason === 'unknown_type') this.stats.unknownFrames++;
        else this.stats.malformedFrames++;
        // Not remembered as the answer to that seq: the retransmit that follows must be executed.
        if (e.error.seq !== undefined) this.write(this.nakBytes(e.error.seq, reason, e.error.message));
        return;
      }
      case 'frame':
        this.stats.framesIn++;
        return this.onFrame(e.frame);
    }
  }

  private onFrame(f: SerialFrame): void {
    if (f.type === 'ACK' || f.type === 'NAK') return this.onAnswer(f);
    if (RESET_TYPES.has(f.type)) this.lastAnswer = undefined;
    if (this.lastAnswer && this.lastAnswer.seq === f.seq) {
      // A retransmit: our answer was lost or late. Same answer, no second execution.
      this.stats.duplicatesIn++;
      this.write(this.lastAnswer.bytes);
      return;
    }
    let answer: string;
    try {
      answer = encodeFrame({ seq: f.seq, type: 'ACK', fields: this.opts.onFrame(f) });
    } catch (err) {
      if (err instanceof LinkRefusal) return this.answer(f.seq, this.nakBytes(f.seq, err.reason, err.message));
      if (err instanceof SerialPayloadError) return this.answer(f.seq, this.nakBytes(f.seq, 'invalid', err.message));
      // A handler that failed otherwise (a bug, an answer too long for a frame) must not take the
      // link and its process down: the other end gets a NAK that says so, and gives up on the frame.
      return this.answer(f.seq, this.nakBytes(f.seq, 'refused', `internal error: ${(err as Error).message}`));
    }
    this.answer(f.seq, Buffer.from(answer, 'latin1'));
  }

  private onAnswer(f: SerialFrame): void {
    const o = this.outstanding;
    if (!o || o.seq !== f.seq) return; // late answer to a frame already settled
    if (f.type === 'ACK') return this.finish(o, [...f.fields]);
    this.stats.naksReceived++;
    const [reason = '', detail = ''] = f.fields;
    if (RETRYABLE.has(reason)) return this.retryOrFail(o, `NAK ${reason}`);
    this.finish(o, new HilError('VIGIL_HIL_REFUSED',
      `the device on ${this.opts.portName} refused ${o.type} (frame ${o.seq}): NAK ${reason}${detail ? ` — ${detail}` : ''}`,
      reason === 'refused' ? 'this device does not support the command (for example SOS on a BAR perpetrator unit)'
        : 'the device and Vigil disagree on docs/PROTOCOL.md: check the device\'s protocol version (vigil hil probe)',
      this.opts.portName, o.type));
  }

  private nakBytes(seq: number, reason: NakReason, detail: string): Buffer {
    this.stats.naksSent++;
    // The detail helps whoever reads the byte log; it is cut so the NAK itself always fits a frame.
    return Buffer.from(encodeFrame({ seq, type: 'NAK', fields: [reason, detail.slice(0, 120)] }), 'latin1');
  }

  /** Answers a frame that was handled, and remembers the answer for its retransmits. */
  private answer(seq: number, bytes: Buffer): void {
    this.lastAnswer = { seq, bytes };
    this.write(bytes);
  }
}
