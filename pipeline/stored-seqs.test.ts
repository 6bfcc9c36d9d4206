import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addStoredSeq, missingRanges, type StoredSeqs } from './stored-seqs.ts';

/** The same answers from a plain set of seqs (the model). */
function model(seqs: ReadonlySet<number>, first: number): { contiguousSeq: number; gaps: [number, number][] } {
  let contiguousSeq = first;
  while (seqs.has(contiguousSeq + 1)) contiguousSeq++;
  const max = Math.max(contiguousSeq, ...seqs);
  const gaps: [number, number][] = [];
  for (let s = contiguousSeq + 1; s <= max; s++) {
    if (seqs.has(s)) continue;
    const from = s;
    while (!seqs.has(s + 1)) s++;
    gaps.push([from, s]);
  }
  return { contiguousSeq, gaps };
}

describe('stored seqs', () => {
  it('refuses duplicates and keeps the prefix and the runs above it as a set of seqs would', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 80 }), (first, arrivals) => {
      const s: StoredSeqs = { contiguousSeq: first, storedAbove: [] };
      const seen = new Set<number>();
      for (const seq of arrivals) {
        const fresh = seq > first && !seen.has(seq);
        expect(addStoredSeq(s, seq), `seq ${seq}`).toBe(fresh);
        if (fresh) seen.add(seq);
        const m = model(seen, first);
        expect(s.contiguousSeq).toBe(m.contiguousSeq);
        expect(missingRanges(s)).toEqual(m.gaps);
      }
      // Runs stay ascending, disjoint and apart.
      for (let i = 0; i < s.storedAbove.length; i += 2) {
        expect(s.storedAbove[i]!).toBeLessThanOrEqual(s.storedAbove[i + 1]!);
        expect(s.storedAbove[i]!).toBeGreaterThan((i === 0 ? s.contiguousSeq : s.storedAbove[i - 1]!) + 1);
      }
    }));
  });

  it('a device sending in order past a gap it never fills keeps one run', () => {
    const s: StoredSeqs = { contiguousSeq: 0, storedAbove: [] };
    for (const seq of [1, 2, 3]) addStoredSeq(s, seq);
    for (let seq = 5; seq <= 10_000; seq++) addStoredSeq(s, seq);
    expect(s).toEqual({ contiguousSeq: 3, storedAbove: [5, 10_000] });
    expect(addStoredSeq(s, 4)).toBe(true);
    expect(s).toEqual({ contiguousSeq: 10_000, storedAbove: [] });
  });
});
