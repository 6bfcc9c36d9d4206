/**
 * communication_loss, exactly as docs/RULES.md states it. `L` is the device time of the highest-seq
 * record RECEIVED (stored, even above a gap: silence is about hearing the device, not about the
 * contiguous prefix). When virtual now ≥ L + offlineTimeoutMs and no alarm is open, raise one naming
 * that record; a record with a higher seq than the open alarm's re-arms the rule.
 * Written from RULES.md, independently of the oracle in sim/model.
 */

export interface SilenceState {
  /** Highest seq received; 0 = never heard from (not watched). */
  lastSeq: number;
  /** Device time of `lastSeq` (L). */
  lastTime: number;
  /** Seq named by the open communication_loss alarm, or null when armed. */
  openSeq: number | null;
}

export function newSilenceState(): SilenceState {
  return { lastSeq: 0, lastTime: 0, openSeq: null };
}

/** A newly stored record of the device (not a duplicate). */
export function noteReceived(s: SilenceState, seq: number, time: number): void {
  if (seq > s.lastSeq) {
    s.lastSeq = seq;
    s.lastTime = time;
  }
  if (s.openSeq !== null && seq > s.openSeq) s.openSeq = null;
}

export interface SilenceAlarm {
  readonly seq: number;
  /** L, the device time of the last record heard. */
  readonly deviceTime: number;
}

/** Raises (and opens) the alarm when it is due at virtual `now`; null otherwise. */
export function checkSilence(s: SilenceState, now: number, offlineTimeoutMs: number): SilenceAlarm | null {
  if (s.lastSeq === 0 || s.openSeq !== null || now < s.lastTime + offlineTimeoutMs) return null;
  s.openSeq = s.lastSeq;
  return { seq: s.lastSeq, deviceTime: s.lastTime };
}

/**
 * Real ms between watchdog sweeps: about 1 s real, but never more than 5 virtual s, so at high clock
 * speeds lateness stays a few virtual seconds (far inside the 4-minute SLA). Floor 5 ms real.
 */
export function watchdogPeriodMs(speed: number): number {
  return Math.max(5, Math.min(1000, 5000 / speed));
}
