/**
 * communication_loss, exactly as docs/RULES.md states it. `L` is the device time of the highest-seq
 * record RECEIVED (stored, even above a gap: silence is about hearing the device, not about the
 * contiguous prefix). `R` is the virtual time the rule was last re-armed: a record with a higher seq
 * than the open alarm's arrived. When virtual now ≥ max(L, R) + offlineTimeoutMs and no alarm is
 * open, raise one naming the highest-seq record received. R keeps a backlog draining after an outage
 * (old records, old L) from raising a new alarm between its batches while the device is talking.
 * Written from RULES.md, independently of the oracle in sim/model.
 */

export interface SilenceState {
  /** Highest seq received; 0 = never heard from (not watched). */
  lastSeq: number;
  /** Device time of `lastSeq` (L). */
  lastTime: number;
  /** Seq named by the open communication_loss alarm, or null when armed. */
  openSeq: number | null;
  /** Virtual time of the last re-arm (R), or null before any. */
  rearmedAt: number | null;
}

export function newSilenceState(): SilenceState {
  return { lastSeq: 0, lastTime: 0, openSeq: null, rearmedAt: null };
}

/**
 * A newly stored record of the device (not a duplicate), at virtual `now`. True when it re-armed the
 * rule (closed the open alarm): the device no longer counts as silent.
 */
export function noteReceived(s: SilenceState, seq: number, time: number, now: number): boolean {
  if (seq > s.lastSeq) {
    s.lastSeq = seq;
    s.lastTime = time;
  }
  if (s.openSeq === null || seq <= s.openSeq) return false;
  s.openSeq = null;
  s.rearmedAt = now;
  return true;
}

export interface SilenceAlarm {
  readonly seq: number;
  /** L, the device time of the last record heard. */
  readonly deviceTime: number;
}

/**
 * Raises (and opens) the alarm when it is due at virtual `now`; null otherwise. `watchingSince`:
 * the virtual time this pipeline process started watching (RULES.md: a restarted pipeline counts
 * no silence it did not see — what the broker queued for it while it was down is still coming).
 */
export function checkSilence(s: SilenceState, now: number, offlineTimeoutMs: number, watchingSince = -Infinity): SilenceAlarm | null {
  if (now < silenceDueAt(s, offlineTimeoutMs, watchingSince)) return null;
  s.openSeq = s.lastSeq;
  return { seq: s.lastSeq, deviceTime: s.lastTime };
}

/**
 * The virtual time from which checkSilence raises, as the state stands: max(L, R) + offlineTimeoutMs
 * (and not before watchingSince + offlineTimeoutMs); Infinity while the device was never heard from
 * or an alarm is open. The watchdog skips its sweep over all devices until the earliest of these.
 */
export function silenceDueAt(s: SilenceState, offlineTimeoutMs: number, watchingSince = -Infinity): number {
  if (s.lastSeq === 0 || s.openSeq !== null) return Infinity;
  return Math.max(s.lastTime, s.rearmedAt ?? -Infinity, watchingSince) + offlineTimeoutMs;
}

/**
 * Real ms between watchdog sweeps: about 1 s real, but never more than 5 virtual s, so at high clock
 * speeds lateness stays a few virtual seconds (far inside the 4-minute SLA). Floor 5 ms real.
 */
export function watchdogPeriodMs(speed: number): number {
  return Math.max(5, Math.min(1000, 5000 / speed));
}
