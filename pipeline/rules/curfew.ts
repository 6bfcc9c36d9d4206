/**
 * curfew_absence and late_return, exactly as docs/RULES.md states them. Presence starts present;
 * event rf_absent makes it absent (the absence begins at that record's device time), rf_present
 * present. For each record of the device, in seq order, after applying its presence change: inside
 * an open curfew period, absent, and no curfew alarm open in this period → raise late_return when the
 * absence began before the period opened (out when the curfew started), else curfew_absence (left
 * during it); the alarm is then open for this period. rf_present closes it, so leaving again in the
 * same period raises a new curfew_absence; a new period starts with no alarm open.
 * Written from RULES.md, independently of the oracle in sim/model.
 */
import type { Schedule } from './windows.ts';

export interface CurfewState {
  /** Presence: true after rf_absent, until rf_present. */
  absent: boolean;
  /** Device time of the rf_absent that began the current absence (meaningful while absent). */
  absentSince: number;
  /** Open instant of the curfew period whose alarm is open, or null when none is open. */
  curfewAlarmPeriod: number | null;
}

export function newCurfewState(): CurfewState {
  return { absent: false, absentSince: 0, curfewAlarmPeriod: null };
}

export type CurfewAlarmKind = 'curfew_absence' | 'late_return';

/**
 * Applies one record (its device time, and its event name when it is an event) of a PSE device;
 * returns the alarm it raises, if any. `schedule` null: the device has no curfew (presence is still tracked).
 */
export function evaluateCurfew(s: CurfewState, schedule: Schedule | null, time: number, event: string | null): CurfewAlarmKind | null {
  if (event === 'rf_absent' && !s.absent) {
    // An rf_absent while already absent does not move the start of the absence.
    s.absent = true;
    s.absentSince = time;
  } else if (event === 'rf_present') {
    s.absent = false;
    s.curfewAlarmPeriod = null;
  }
  if (!s.absent || schedule === null) return null;
  const period = schedule.periodAt(time);
  if (period === null || s.curfewAlarmPeriod === period.open) return null;
  s.curfewAlarmPeriod = period.open;
  return s.absentSince < period.open ? 'late_return' : 'curfew_absence';
}
