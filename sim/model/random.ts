/**
 * Seeded randomness for the pure model. Hand-written rather than a library: it must run unchanged
 * inside k6 (no Node built-ins), give every device its own independent stream from (seed, device
 * index) so a device's behaviour does not depend on how the fleet is sharded, and stay bit-for-bit
 * stable across versions — a scenario's seed is evidence (STYLE.md §4).
 */

/** splitmix32: turns any 32-bit input into a well-mixed 32-bit output. */
export function mix32(x: number): number {
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

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator). A class rather than closures: a fleet
 * holds several streams per device, and four integers each keep 15,000 devices' state small.
 */
class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(a: number, b: number, c: number) {
    this.a = a;
    this.b = b;
    this.c = c;
    for (let i = 0; i < 12; i++) this.uint32(); // warm up: the first outputs of sfc32 are weakly mixed
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.uint32() / 4294967296;
  }

  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.next());
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** A stream seeded from (seed, ...keys): the same keys give the same stream, whatever else runs. */
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
  return new Sfc32(a, b, c);
}

const DAY_MS = 86_400_000;

/**
 * The next event of a Poisson process of `perDay` events a day after `from` (exponential gap);
 * Infinity when the rate is 0.
 */
export function nextPoisson(r: Rng, from: number, perDay: number): number {
  if (!(perDay > 0)) return Infinity;
  return from - Math.log(1 - r.next()) * (DAY_MS / perDay);
}

/** A Poisson-distributed count with mean `mean` (Knuth; means here are small). */
export function poissonCount(r: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  const limit = Math.exp(-Math.min(mean, 50));
  let k = 0;
  let p = r.next();
  while (p > limit) {
    k++;
    p *= r.next();
  }
  return k;
}
