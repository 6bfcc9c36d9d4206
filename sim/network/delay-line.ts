/**
 * One direction of one connection through a degraded path: bandwidth as serialisation delay (a
 * token bucket with no burst: a piece leaves once the link has sent the previous ones), then
 * latency ± jitter, then loss as a retransmission delay — TCP cannot lose bytes, a lost segment
 * arrives late and holds back everything behind it. Order is preserved; one timer at most.
 */
import type { Policy } from './effects.ts';

interface Item {
  readonly buf: Buffer;
  /** Real ms (performance.now) when the bytes reach the other side. */
  readonly due: number;
}

export class DelayLine {
  private queue: Item[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the link has finished sending what it holds (bandwidth). */
  private freeAt = 0;
  private lastDue = 0;
  /** Called when the line has delivered everything it held. */
  onEmpty: (() => void) | undefined;

  constructor(
    private readonly deliver: (buf: Buffer) => void,
    private readonly random: () => number,
    private readonly now: () => number,
  ) {}

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Queues `buf` under the shaping effects of `p` (none: it only waits for what is ahead of it). */
  push(buf: Buffer, p: Policy): void {
    const now = this.now();
    const bw = p.bandwidth;
    // Pieces of ~50 ms of link time, so a big chunk trickles out rather than arriving in one go.
    const piece = bw === undefined ? buf.length : Math.max(256, Math.floor(bw.bytesPerS / 20));
    for (let off = 0; off < buf.length; off += piece) {
      const part = off === 0 && piece >= buf.length ? buf : buf.subarray(off, off + piece);
      let t = now;
      if (bw !== undefined) {
        t = Math.max(t, this.freeAt) + (part.length * 1000) / bw.bytesPerS;
        this.freeAt = t;
      }
      for (const l of p.latency) t += Math.max(0, l.delayRealMs + (this.random() * 2 - 1) * l.jitterRealMs);
      for (const x of p.loss) {
        if (x.rate > 0 && this.random() < x.rate) {
          t += x.retransmitRealMs;
          x.fault.stats.retransmits++;
        }
      }
      if (t < this.lastDue) t = this.lastDue;
      this.lastDue = t;
      this.queue.push({ buf: part, due: t });
    }
    this.arm();
  }

  /** Drops what is queued (the connection is gone). */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
    this.onEmpty = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined || this.length === 0) return;
    const wait = this.queue[this.head]!.due - this.now();
    this.timer = setTimeout(this.fire, Math.max(0, Math.ceil(wait)));
  }

  /** fireDue, bound once: a method, not an arrow field (sim/transport/lean-link.ts, on `dialNow`). */
  private readonly fire: () => void = this.fireDue.bind(this);
  private fireDue(): void {
    this.timer = undefined;
    const now = this.now();
    while (this.head < this.queue.length && this.queue[this.head]!.due <= now) {
      const item = this.queue[this.head++]!;
      this.deliver(item.buf);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.onEmpty?.();
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }
}
