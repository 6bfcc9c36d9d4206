/**
 * Thousands of devices on one event loop: a min-heap of (virtual wake time, device) drained by one
 * real-time tick, instead of a timer per device. Entries are never updated in place; a device that
 * must wake earlier is pushed again and its stale entry is skipped by generation.
 */
interface Entry {
  at: number;
  slot: number;
  gen: number;
}

export class WakeQueue {
  private readonly heap: Entry[] = [];
  private readonly gens: number[] = [];

  /** Schedules `slot` at virtual time `at`, superseding its earlier entry. */
  schedule(slot: number, at: number): void {
    const gen = (this.gens[slot] ?? 0) + 1;
    this.gens[slot] = gen;
    if (at === Infinity) return;
    this.heap.push({ at, slot, gen });
    this.up(this.heap.length - 1);
  }

  /** Pops every slot due at or before `now`, in time order. */
  *due(now: number): Generator<number> {
    while (this.heap.length > 0 && (this.heap[0] as Entry).at <= now) {
      const top = this.pop();
      if (top.gen === this.gens[top.slot]) {
        this.gens[top.slot] = top.gen + 1; // consumed: its slot must be scheduled again
        yield top.slot;
      }
    }
  }

  get size(): number {
    return this.heap.length;
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0] as Entry;
    const last = h.pop() as Entry;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i] as Entry;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as Entry;
      if (pe.at <= e.at) break;
      h[i] = pe;
      i = p;
    }
    h[i] = e;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i] as Entry;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (h[r] as Entry).at < (h[c] as Entry).at) c = r;
      if ((h[c] as Entry).at >= e.at) break;
      h[i] = h[c] as Entry;
      i = c;
    }
    h[i] = e;
  }
}
