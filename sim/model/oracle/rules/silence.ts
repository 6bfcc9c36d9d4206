/**
 * communication_loss (docs/RULES.md "Every device type"). The pipeline raises it when virtual now
 * reaches L + offlineTimeoutMs with nothing newer from the device; the oracle expects it "wherever
 * two consecutive records of a device (by seq) are more than offlineTimeoutMs apart in device
 * time, and at the end of the run for a device whose last record is more than offlineTimeoutMs
 * before the end of the timeline". Either unit of a BAR pair going silent is this same alarm.
 */
import type { Expectation } from '../expectation.ts';

/** What the rule keeps per device: the last record (seq and device time); time NaN = never heard (seq may start past 0: firstSeq). */
export interface LastHeard {
  lastSeq: number;
  lastTime: number;
}

/** The alarm for the silence after the last record: seq and deviceTime of L, trigger at L + timeout. */
function lossAfter(deviceId: string, h: LastHeard, offlineTimeoutMs: number, silentUntil: number | undefined): Expectation {
  const e = { deviceId, kind: 'communication_loss' as const, seq: h.lastSeq, deviceTime: h.lastTime, triggerTime: h.lastTime + offlineTimeoutMs };
  return silentUntil === undefined ? e : { ...e, silentUntil };
}

/** A new record after `h`: a silence longer than the timeout before it was a communication loss. */
export function silenceBefore(deviceId: string, h: LastHeard, time: number, offlineTimeoutMs: number): Expectation | undefined {
  // Scope starts at the first record: a device never heard from is not watched.
  if (Number.isNaN(h.lastTime) || time - h.lastTime <= offlineTimeoutMs) return undefined;
  return lossAfter(deviceId, h, offlineTimeoutMs, time);
}

/** The end of the timeline: a device silent for more than the timeout before `end`. */
export function silenceAtEnd(deviceId: string, h: LastHeard, end: number, offlineTimeoutMs: number): Expectation | undefined {
  if (Number.isNaN(h.lastTime) || end - h.lastTime <= offlineTimeoutMs) return undefined;
  return lossAfter(deviceId, h, offlineTimeoutMs, undefined);
}
