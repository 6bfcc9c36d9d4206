/**
 * Seeded randomness for the pure model. Hand-written rather than a library: it must run unchanged
 * inside k6 (no Node built-ins), give every device its own independent stream from (seed, device
 * index) so a device's behaviour does not depend on how the fleet is sharded, and stay bit-for-bit
 * stable across versions — a scenario's seed is evidence (STYLE.md §4).
 */

/** splitmix32: turns any 32-bit input into a well-mixed 32-bit output. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A 32-bit hash of a string (FNV-1a, then mixed). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number;
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** A 32-bit integer, to seed another library (e.g. faker) deterministically. */
  uint32(): number;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded from (seed, ...keys). */
export function rng(seed: number, ...keys: (number | string)[]): Rng {
  let a = mix32(seed);
  let b = mix32(a ^ 0x5bd1e995);
  let c = mix32(b ^ 0x1b873593);
  for (const k of keys) {
    const h = typeof k === 'number' ? mix32(k) : hashString(k);
    a = mix32(a ^ h);
    b = mix32(b + h);
    c = mix32(c ^ Math.imul(h, 0x27d4eb2d));
  }
  let d = 1;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32(); // warm up: the first outputs of sfc32 are weakly mixed
  const next = (): number => u32() / 4294967296;
  return {
    next,
    between: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    normal: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    uint32: u32,
  };
}
