/**
 * low_battery, exactly as docs/RULES.md states it: a state per device that starts ok; any record
 * with battery ≤ 15 while ok raises one alarm and goes low; a record with battery ≥ 30 goes back to
 * ok without an alarm; 16–29 changes nothing (the hysteresis keeps a battery hovering at 15 % from
 * raising an alarm a minute). Written from RULES.md, independently of the oracle in sim/model.
 */

/** RULES.md: raise at or below this percentage. */
export const BATTERY_LOW_AT = 15;
/** RULES.md: back to ok at or above this percentage. */
export const BATTERY_OK_AT = 30;

export interface BatteryState {
  /** True once low_battery was raised, until a record with battery ≥ 30. */
  batteryLow: boolean;
}

/** Applies one record's battery level; true when it raises low_battery. */
export function evaluateBattery(s: BatteryState, battery: number): boolean {
  if (s.batteryLow) {
    if (battery >= BATTERY_OK_AT) s.batteryLow = false;
    return false;
  }
  if (battery > BATTERY_LOW_AT) return false;
  s.batteryLow = true;
  return true;
}
