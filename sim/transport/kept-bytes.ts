/**
 * Bytes kept for a long life — a lean link's topic part, for as long as the link — cut from arenas
 * of their own. A small `Buffer.allocUnsafe` is a view of Node's shared 8 KiB pool slab, and a
 * Buffer that lives keeps its whole slab alive: cut between the packets of the links' first dials,
 * 3,000 links' topic parts held 194 slabs, 1.6 MB (heap snapshot of the bench's fleet, 2026-12-01;
 * docs/PERFORMANCE.md). Here they are side by side: 15,000 topic parts fill about seven arenas.
 * An arena lives until the last of its pieces does, so only what lives long should come from here.
 */
export const ARENA_BYTES = 64 * 1024;

/**
 * Where kept bytes are: `bytes[at, at + n)`, in an arena other pieces share. Not a Buffer view of
 * their own: a view is an object of ~100 bytes of heap (a JS typed array), more than the bytes, so a
 * holder keeps the arena and the offset (issue 7).
 */
export interface KeptBytes {
  readonly bytes: Buffer;
  readonly at: number;
}

let arena: Buffer | undefined;
let arenaUsed = 0;

/** `n` bytes, uninitialised, that share no pool slab with short-lived packets. */
export function keptBytes(n: number): KeptBytes {
  if (n > ARENA_BYTES / 16) return { bytes: Buffer.allocUnsafeSlow(n), at: 0 };
  if (arena === undefined || arenaUsed + n > ARENA_BYTES) {
    arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
    arenaUsed = 0;
  }
  arenaUsed += n;
  return { bytes: arena, at: arenaUsed - n };
}
