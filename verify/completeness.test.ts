import { describe, expect, it } from 'vitest';
import { checkCompleteness } from './completeness.ts';

describe('position completeness', () => {
  it('passes when every record is stored', () => {
    const c = checkCompleteness([{ deviceId: 'D1', lastSeq: 10, ackedSeq: 10, pendingSeqs: [], evicted: 0 }], {
      runId: 'r', devices: { D1: { contiguousSeq: 10, maxSeq: 10, stored: 10, gaps: [] } },
    });
    expect(c).toMatchObject({ recordsMade: 10, recordsStored: 10, recordsMissing: 0, gaps: [] });
  });

  it('names missing ranges, those acked and those still held by the device', () => {
    const c = checkCompleteness([{ deviceId: 'D1', lastSeq: 12, ackedSeq: 8, pendingSeqs: [11, 12], evicted: 0 }], {
      runId: 'r', devices: { D1: { contiguousSeq: 4, maxSeq: 10, stored: 8, gaps: [[5, 6]] } },
    });
    expect(c.recordsMissing).toBe(4);
    expect(c.gaps[0]).toMatchObject({ deviceId: 'D1', missing: [[5, 6], [11, 12]], ackedButMissing: 2 });
    expect(c.gaps[0]!.detail).toMatch(/2 of them acknowledged to the device \(by the pipeline, or by what its firmware trusts\); 2 still held by the device/);
  });

  it('counts a device the pipeline never heard of as wholly missing', () => {
    const c = checkCompleteness([{ deviceId: 'D2', lastSeq: 3, ackedSeq: 0, pendingSeqs: [1, 2, 3], evicted: 0 }], { runId: 'r', devices: {} });
    expect(c.gaps[0]!.missing).toEqual([[1, 3]]);
  });
});
