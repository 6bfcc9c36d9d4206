/**
 * Paces a fleet's dials to a steady rate. Real devices redial independently, each on its own
 * jittered timer (backoff.ts), so their dials arrive spread out. A fleet of 15,000 simulated devices
 * on one event loop does not: when the loop stalls (a burst of acks, a GC), every redial timer that
 * fell due meanwhile fires in the same turn, and hundreds of SYNs hit the broker at once. mosquitto's
 * listen backlog is 100; past it the kernel drops handshakes and those devices wait for SYN-ACK
 * retransmissions (1, 3, 7 s…). Measured: a 15,000-device reconnect storm took 9–16 s with jittered
 * timers alone (TcpExtListenOverflows counted thousands). The pacer lets out at most `ratePerS`
 * dials a second, in slices of SLICE_MS, so a stall delays dials instead of bunching them: an
 * artefact of simulating on one loop is kept out of what the broker sees.
 */

/** How often queued dials are let out: small slices keep each burst far below a listen backlog of 100. */
const SLICE_MS = 10;
/** What a slow loop turn may catch up on: 30 ms of dials… */
const BURST_MS = 30;
/** …but at most 80 at once, under mosquitto's listen backlog of 100. */
const MAX_BURST = 80;

export class DialPacer {
  private readonly queue: (() => void)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A token bucket: dials it may let out now, refilled at ratePerS, holding at most `burst`. */
  private credit: number;
  private last = Date.now();
  private readonly burst: number;

  constructor(private readonly ratePerS: number) {
    if (!(ratePerS > 0)) throw new RangeError(`dial rate must be > 0, got ${ratePerS}`);
    // A stalled loop catches up by at most BURST_MS of dials, and never by more than MAX_BURST at once.
    this.burst = Math.max(1, Math.min(MAX_BURST, (BURST_MS * ratePerS) / 1000));
    this.credit = this.burst;
  }

  /** Queues a dial; it runs once the rate allows, in the order asked. */
  request(dial: () => void): void {
    this.queue.push(dial);
    if (!this.timer) {
      this.timer = setInterval(() => this.release(), SLICE_MS);
      // A lone redial goes at once when the bucket holds a token.
      this.release();
    }
  }

  /** Dials waiting. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Drops every queued dial (the fleet is closing). */
  clear(): void {
    this.queue.length = 0;
    this.head = 0;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private release(): void {
    const now = Date.now();
    if (this.head === this.queue.length && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.credit = Math.min(this.credit + ((now - this.last) * this.ratePerS) / 1000, this.burst);
    this.last = now;
    while (this.credit >= 1 && this.head < this.queue.length) {
      this.credit--;
      const dial = this.queue[this.head] as () => void;
      this.queue[this.head++] = noop;
      dial();
    }
    // The timer stops at a slice that finds nothing left, not in the call that queued the last dial.
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

const noop = (): void => {};
