/**
 * Thousands of devices on one event loop: a min-heap of (virtual wake time, device) drained by one
 * real-time tick, instead of a timer per device.
 *
 * An indexed binary heap in typed arrays, hand-written because it is the fleet's innermost loop
 * (issue 7: every record of 15,000 devices goes through it, and the earlier heap of one object per
 * schedule, superseded entries skipped by generation, cost 4 % of the fleet's CPU and its garbage):
 * each slot is in the heap at most once, and a new wake time moves it in place. No allocation per
 * operation; the arrays grow by doubling. Ties pop in no particular, but deterministic, order.
 * Plain typed arrays: it runs inside k6 too (scenarios/k6/device-driver.ts).
 */
export class WakeQueue {
  /** Heap position → slot. */
  private heap = new Int32Array(64);
  /** Slot → its wake time (valid while it is in the heap). */
  private at = new Float64Array(64);
  /** Slot → its heap position, or -1. */
  private pos = new Int32Array(64).fill(-1);
  private n = 0;

  /** Schedules `slot` at virtual time `at`, superseding its earlier wake time; Infinity: never. */
  schedule(slot: number, at: number): void {
    if (slot >= this.pos.length) this.grow(slot);
    const i = this.pos[slot] as number;
    if (at === Infinity) {
      if (i >= 0) this.removeAt(i);
      return;
    }
    if (i < 0) {
      const j = this.n++;
      if (j >= this.heap.length) {
        const h = new Int32Array(this.heap.length * 2);
        h.set(this.heap);
        this.heap = h;
      }
      this.heap[j] = slot;
      this.pos[slot] = j;
      this.at[slot] = at;
      this.up(j);
      return;
    }
    const before = this.at[slot] as number;
    this.at[slot] = at;
    if (at < before) this.up(i);
    else this.down(i);
  }

  /** Pops every slot due at or before `now`, in time order; a popped slot is out until scheduled again. */
  *due(now: number): Generator<number> {
    while (this.n > 0) {
      const top = this.heap[0] as number;
      if ((this.at[top] as number) > now) return;
      this.removeAt(0);
      yield top;
    }
  }

  /** When `slot` was last scheduled for: after due() popped it, the time it was due. */
  dueAt(slot: number): number {
    return this.at[slot] as number;
  }

  get size(): number {
    return this.n;
  }

  private grow(slot: number): void {
    let len = this.pos.length;
    while (len <= slot) len *= 2;
    const pos = new Int32Array(len).fill(-1);
    pos.set(this.pos);
    this.pos = pos;
    const at = new Float64Array(len);
    at.set(this.at);
    this.at = at;
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const slot = h[i] as number;
    this.pos[slot] = -1;
    const last = h[--this.n] as number;
    if (i === this.n) return;
    h[i] = last;
    this.pos[last] = i;
    if (i > 0 && (this.at[last] as number) < (this.at[h[(i - 1) >> 1] as number] as number)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const h = this.heap;
    const slot = h[i] as number;
    const t = this.at[slot] as number;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = h[p] as number;
      if ((this.at[ps] as number) <= t) break;
      h[i] = ps;
      this.pos[ps] = i;
      i = p;
    }
    h[i] = slot;
    this.pos[slot] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = this.n;
    const slot = h[i] as number;
    const t = this.at[slot] as number;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (this.at[h[r] as number] as number) < (this.at[h[c] as number] as number)) c = r;
      const cs = h[c] as number;
      if ((this.at[cs] as number) >= t) break;
      h[i] = cs;
      this.pos[cs] = i;
      i = c;
    }
    h[i] = slot;
    this.pos[slot] = i;
  }
}
