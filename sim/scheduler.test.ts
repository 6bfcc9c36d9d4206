/**
 * The fleet's wake queue (sim/scheduler.ts) against a plain map of slot → wake time, under random
 * schedules, reschedules (earlier and later), cancellations (Infinity) and drains: the same slots
 * come out, each once, in time order, and what is not due stays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WakeQueue } from './scheduler.ts';

type Op = { readonly kind: 'schedule'; readonly slot: number; readonly at: number } | { readonly kind: 'due'; readonly now: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('schedule' as const), slot: fc.integer({ min: 0, max: 300 }), at: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(Infinity), fc.constant(-Infinity)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('due' as const), now: fc.integer({ min: -1, max: 1000 }) }) },
);

describe('WakeQueue', () => {
  it('pops what a map of wake times says is due, each slot once, in time order', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const q = new WakeQueue();
      const model = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'schedule') {
          q.schedule(o.slot, o.at);
          if (o.at === Infinity) model.delete(o.slot);
          else model.set(o.slot, o.at);
          continue;
        }
        const popped = [...q.due(o.now)];
        const expected = [...model].filter(([, at]) => at <= o.now);
        expect(new Set(popped)).toEqual(new Set(expected.map(([s]) => s)));
        expect(popped).toHaveLength(expected.length);
        const times = popped.map((s) => model.get(s) as number);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        for (const s of popped) model.delete(s);
        expect(q.size).toBe(model.size);
      }
    }), { numRuns: 500 });
  });

  it('says when a popped slot was due', () => {
    const q = new WakeQueue();
    q.schedule(3, 40);
    q.schedule(7, 25);
    expect([...q.due(100)]).toEqual([7, 3]);
    expect(q.dueAt(7)).toBe(25);
    expect(q.dueAt(3)).toBe(40);
    q.schedule(3, -Infinity); // "as soon as you can"
    expect([...q.due(0)]).toEqual([3]);
    expect(q.dueAt(3)).toBe(-Infinity);
  });

  it('a drain stopped half-way leaves the rest in the queue', () => {
    const q = new WakeQueue();
    for (let s = 0; s < 10; s++) q.schedule(s, s * 10);
    const first: number[] = [];
    for (const s of q.due(100)) {
      first.push(s);
      if (first.length === 3) break;
    }
    expect(first).toEqual([0, 1, 2]);
    expect([...q.due(100)]).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });
});
