import { describe, expect, it } from 'vitest';
import { ARENA_BYTES, keptBytes } from './kept-bytes.ts';

describe('keptBytes', () => {
  it('gives pieces that never overlap, across arenas, and never from the pool of short-lived Buffers', () => {
    const pieces = Array.from({ length: 5_000 }, (_, i) => {
      const n = 20 + (i % 17);
      const k = keptBytes(n);
      expect(k.at + n).toBeLessThanOrEqual(k.bytes.length);
      k.bytes.fill(i % 251, k.at, k.at + n);
      return k.bytes.subarray(k.at, k.at + n);
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
    expect(big.at).toBe(0);
    expect(big.bytes.length).toBe(ARENA_BYTES);
    expect(big.bytes.buffer.byteLength).toBe(ARENA_BYTES);
    expect(keptBytes(16).bytes.buffer).not.toBe(big.bytes.buffer);
  });
});
