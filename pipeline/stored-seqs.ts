/**
 * Which seqs of a device are stored, kept in memory so the records table need not be searched by
 * (device, seq): the contiguous prefix 1..contiguousSeq (the ack) and, above it, the stored seqs
 * as disjoint runs. A store-and-forward device sends in seq order, so above a gap its records form
 * a few long runs: a handful of numbers per device however many records wait, where a Set of seqs
 * would grow with every record above a gap that is never filled (an abandoned gap is never acked).
 * Hand-written (about 40 lines) since none of the available packages keeps integer runs in a form
 * that is stored with the device row as it is (a flat JSON array).
 */

export interface StoredSeqs {
  /** Highest seq such that 1..contiguousSeq are all stored. */
  contiguousSeq: number;
  /**
   * Stored seqs above contiguousSeq + 1, as runs [from0, to0, from1, to1, …]: ascending, disjoint,
   * not adjacent (a gap of at least one seq between runs and before the first). Empty without a gap.
   */
  readonly storedAbove: number[];
}

/** Records `seq` as stored; false when it already was (a duplicate: store it not again). Moves the ack over a filled gap. */
export function addStoredSeq(s: StoredSeqs, seq: number): boolean {
  if (seq <= s.contiguousSeq) return false;
  const runs = s.storedAbove;
  if (seq === s.contiguousSeq + 1) {
    s.contiguousSeq = seq;
    // The gap just filled: the run above it joins the prefix.
    if (runs.length > 0 && runs[0] === seq + 1) {
      s.contiguousSeq = runs[1]!;
      runs.splice(0, 2);
    }
    return true;
  }
  // Usually the record extends the last run (a device sends in order): search from the end.
  let i = runs.length - 2;
  while (i >= 0 && runs[i]! > seq) i -= 2;
  // Now runs[i] ≤ seq (or i < 0): seq is in run i, right after it, or before run i + 2.
  if (i >= 0 && seq <= runs[i + 1]!) return false;
  const extendsLeft = i >= 0 && runs[i + 1] === seq - 1;
  const extendsRight = i + 2 < runs.length && runs[i + 2] === seq + 1;
  if (extendsLeft && extendsRight) runs.splice(i + 1, 2);
  else if (extendsLeft) runs[i + 1] = seq;
  else if (extendsRight) runs[i + 2] = seq;
  else runs.splice(i + 2, 0, seq, seq);
  return true;
}

/** Missing inclusive ranges between the contiguous prefix and the highest stored seq. */
export function missingRanges(s: StoredSeqs): [number, number][] {
  const gaps: [number, number][] = [];
  let prev = s.contiguousSeq;
  for (let i = 0; i < s.storedAbove.length; i += 2) {
    gaps.push([prev + 1, s.storedAbove[i]! - 1]);
    prev = s.storedAbove[i + 1]!;
  }
  return gaps;
}
