/**
 * curfew_absence and late_return (docs/RULES.md "PSE"). The home unit reports `rf_absent` /
 * `rf_present`; the device's curfew windows are its curfew periods (local time, DST per RULES.md).
 */
import type { UplinkRecord } from '../../../../protocol/uplink.ts';
import { atRecord, type Expectation } from '../expectation.ts';
import { WindowCursor, type Interval, type WindowSchedule } from '../local-windows.ts';

export class CurfewRule {
  /** Device time of the `rf_absent` that made the wearer *absent*; null while *present* (the start). */
  private absentSince: number | null = null;
  /** The period whose curfew alarm is open; null when none is. */
  private alarmIn: Interval | null = null;
  private readonly periods: WindowCursor;

  constructor(schedule: WindowSchedule) {
    this.periods = new WindowCursor(schedule);
  }

  /** Every record of the device, in seq order (any type: a heartbeat inside the period counts too). */
  observe(r: UplinkRecord): Expectation | undefined {
    // "after applying its presence change"
    if (r.type === 'event') {
      // A second rf_absent while absent does not move the start of the absence.
      if (r.event === 'rf_absent' && this.absentSince === null) this.absentSince = r.time;
      // rf_present closes the open alarm: leaving again in the same period is a new curfew_absence.
      if (r.event === 'rf_present') {
        this.absentSince = null;
        this.alarmIn = null;
      }
    }
    if (this.absentSince === null) return undefined;
    const open = this.periods.at(r.time);
    if (open.length === 0) return undefined;
    // "no curfew alarm is open for the device in this period": the alarm's period is still open. A
    // later period starts with no alarm open. (Overlapping windows are not specified by RULES.md;
    // the earliest-opened open occurrence is taken as "the period".)
    const still = this.alarmIn;
    if (still !== null && open.some((p) => p.open === still.open && p.close === still.close)) return undefined;
    const period = open[0]!;
    this.alarmIn = period;
    // late_return: the wearer was already out when the period opened; curfew_absence: left during it.
    return atRecord(r, this.absentSince < period.open ? 'late_return' : 'curfew_absence');
  }
}
