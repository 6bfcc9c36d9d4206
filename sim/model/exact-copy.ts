/**
 * A copy of a list that holds no spare room, for a queue a device keeps for long.
 *
 * An array V8 grew by `push` keeps the room it grew into: the first push onto a full array makes
 * room for 16 more elements (and half as many again as it held), about 130 bytes a device never
 * fills. A device keeps such queues (its overrides, a zone's openings; its day's steps are packed in
 * routine.ts), the fleet 15,000 devices: `slice` allocates exactly the elements. Measured with
 * bench/model-memory.bench.ts (docs/PERFORMANCE.md).
 */
export function exactCopy<T>(items: readonly T[]): T[] {
  return items.slice();
}
