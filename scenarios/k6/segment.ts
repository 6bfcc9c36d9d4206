/**
 * Which devices a k6 instance, and a VU in it, drives. A distributed run splits one test over k6
 * instances with execution segments (`k6 run --execution-segment 1/4:2/4
 * --execution-segment-sequence 0,1/4,2/4,3/4,1`; k6-operator passes them to each runner). The
 * segments of a sequence partition [0, 1), so taking device i when i / n falls in the instance's
 * segment gives every device to exactly one instance, whatever the sequence. k6 numbers VUs
 * across instances with gaps (k6/execution docs, "Identifiers"), so the split uses the segment
 * itself, which every instance reads from its options, and not VU ids.
 */

/** A fraction p/q ≥ 0 as k6 writes segment bounds: "1/3", "0.25", "25%", "1". */
interface Fraction {
  readonly p: number;
  readonly q: number;
}

function parseBound(text: string, segment: string): Fraction {
  const s = text.trim();
  let f: Fraction | undefined;
  if (/^\d+\/\d+$/.test(s)) {
    const [p, q] = s.split('/').map(Number) as [number, number];
    f = { p, q };
  } else if (/^\d+(\.\d+)?%$/.test(s)) {
    f = decimal(s.slice(0, -1), 100);
  } else if (/^\d+(\.\d+)?$/.test(s)) {
    f = decimal(s, 1);
  }
  if (!f || f.q === 0 || f.p > f.q) {
    throw new RangeError(`execution segment "${segment}": "${text}" is not a fraction between 0 and 1 (write it like 1/4, 0.25 or 25%)`);
  }
  return f;
}

function decimal(s: string, scale: number): Fraction {
  const [whole = '0', frac = ''] = s.split('.');
  const q = scale * 10 ** frac.length;
  return { p: Number(whole + frac), q };
}

/** ceil(f × n), in integers so that 1/3 of 3 is exactly 1. */
function ceilTimes(f: Fraction, n: number): number {
  return Math.floor((f.p * n + f.q - 1) / f.q);
}

/**
 * The device indexes [lo, hi) of a segment "from:to" of n devices (k6 writes a segment "0:1/2",
 * and an instance without one runs the whole test, "0:1").
 */
export function segmentRange(n: number, segment: string | undefined): { lo: number; hi: number } {
  const text = segment === undefined || segment === '' ? '0:1' : segment;
  const parts = text.split(':');
  if (parts.length !== 2) throw new RangeError(`execution segment "${text}" must be from:to, like 0:1/2`);
  const from = parseBound(parts[0] as string, text);
  const to = parseBound(parts[1] as string, text);
  if (from.p * to.q >= to.p * from.q) throw new RangeError(`execution segment "${text}": its start must be below its end`);
  return { lo: ceilTimes(from, n), hi: ceilTimes(to, n) };
}

/**
 * The indexes a VU drives: of the instance's range, every `vus`-th from the VU's own place
 * (`vu` counts from 1 within the instance, as k6's exec.vu.idInInstance does).
 */
export function devicesOfVu(range: { lo: number; hi: number }, vu: number, vus: number): number[] {
  const out: number[] = [];
  for (let i = range.lo + vu - 1; i < range.hi; i += vus) out.push(i);
  return out;
}
