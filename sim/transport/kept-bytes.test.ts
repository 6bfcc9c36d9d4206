import { describe, expect, it } from 'vitest';
import { ARENA_BYTES, keptBytes } from './kept-bytes.ts';

describe('keptBytes', () => {
  it('gives pieces that never overlap, across arenas, and never from the pool of short-lived Buffers', () => {
    const pieces = Array.from({ length: 5_000 }, (_, i) => {
      const b = keptBytes(20 + (i % 17));
      b.fill(i % 251);
      return b;
    });
    // Written one after the other: a piece that overlapped a later one would have been overwritten.
    pieces.forEach((b, i) => expect(b.every((x) => x === i % 251)).toBe(true));
    const arenas = new Set(pieces.map((b) => b.buffer));
    expect(arenas.size).toBeGreaterThan(1);
    for (const a of arenas) expect(a.byteLength).toBe(ARENA_BYTES);
    expect(arenas.has(Buffer.allocUnsafe(8).buffer)).toBe(false);
  });

  it('gives a large piece an ArrayBuffer of its own', () => {
    const big = keptBytes(ARENA_BYTES);
    expect(big.length).toBe(ARENA_BYTES);
    expect(big.buffer.byteLength).toBe(ARENA_BYTES);
    expect(keptBytes(16).buffer).not.toBe(big.buffer);
  });
});
