/**
 * Position completeness: every record a device made and did not itself lose must be stored by the
 * pipeline at the final read (DESIGN.md "The ledger"). The pipeline's ingest summary tells what it
 * stored; the fleet tells what each device made, what it got acknowledged, and what it still holds.
 */
import type { DeviceIngest, IngestSummary } from '../protocol/provisioning.ts';

export interface DeviceRecordState {
  readonly deviceId: string;
  /** Highest seq the device made. */
  readonly lastSeq: number;
  /** Highest seq the pipeline acknowledged to it. */
  readonly ackedSeq: number;
  /** Seqs the device still holds, unacknowledged. */
  readonly pendingSeqs: readonly number[];
  /** Records the device dropped from a full outbox (lost on the device, not by the pipeline). */
  readonly evicted: number;
}

export interface CompletenessGap {
  readonly deviceId: string;
  /** Missing seqs as inclusive ranges. */
  readonly missing: readonly (readonly [number, number])[];
  readonly missingCount: number;
  /** Of the missing, those the pipeline had acknowledged: stored, it said, and now gone. */
  readonly ackedButMissing: number;
  readonly detail: string;
}

export interface Completeness {
  readonly devices: number;
  readonly recordsMade: number;
  readonly recordsStored: number;
  readonly recordsMissing: number;
  readonly gaps: readonly CompletenessGap[];
}

function storedRanges(d: DeviceIngest | undefined): (seq: number) => boolean {
  if (!d) return () => false;
  return (seq) => seq <= d.contiguousSeq || (seq <= d.maxSeq && !d.gaps.some(([a, b]) => seq >= a && seq <= b));
}

function toRanges(seqs: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

export function checkCompleteness(devices: readonly DeviceRecordState[], summary: IngestSummary): Completeness {
  let made = 0;
  let stored = 0;
  const gaps: CompletenessGap[] = [];
  for (const dev of devices) {
    made += dev.lastSeq;
    const ingest = summary.devices[dev.deviceId];
    // Everything up to the last record it made stored without a gap (most devices): no need to look seq by seq.
    if (ingest && ingest.contiguousSeq >= dev.lastSeq) {
      stored += Math.max(0, dev.lastSeq);
      continue;
    }
    const isStored = storedRanges(ingest);
    const missing: number[] = [];
    for (let seq = 1; seq <= dev.lastSeq; seq++) {
      if (isStored(seq)) stored++;
      else missing.push(seq);
    }
    if (missing.length === 0) continue;
    const held = new Set(dev.pendingSeqs);
    const ackedButMissing = missing.filter((s) => s <= dev.ackedSeq).length;
    const stillHeld = missing.filter((s) => held.has(s)).length;
    const ranges = toRanges(missing);
    const parts = [`${missing.length} of ${dev.lastSeq} records not stored (seq ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).slice(0, 5).join(', ')}${ranges.length > 5 ? ', …' : ''})`];
    if (ackedButMissing > 0) parts.push(`${ackedButMissing} of them acknowledged to the device (by the pipeline, or by what its firmware trusts)`);
    if (stillHeld > 0) parts.push(`${stillHeld} still held by the device, never delivered`);
    if (dev.evicted > 0) parts.push(`the device dropped ${dev.evicted} from its full outbox`);
    gaps.push({ deviceId: dev.deviceId, missing: ranges, missingCount: missing.length, ackedButMissing, detail: parts.join('; ') });
  }
  return { devices: devices.length, recordsMade: made, recordsStored: stored, recordsMissing: made - stored, gaps };
}
