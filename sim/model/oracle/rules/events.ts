/**
 * Alarms that one device event raises by itself, one alarm per event, also when the event arrives
 * late after the device was offline (it keeps its own seq and device time): docs/RULES.md
 * strap_tamper, gps_loss, home_unit_tamper, home_unit_moved, mains_power_loss, victim_sos.
 * Everything else (RULES.md "Not alarms", and unknown event names) raises nothing here; rf_absent /
 * rf_present belong to the curfew rule.
 */
import type { AlarmKind, DeviceType } from '../../../../protocol/alarms.ts';

/**
 * RULES.md gives each of these a bare trigger ("Trigger: event X"), so any device that sends it
 * raises it; only victim_sos names its sender ("event sos from the victim unit").
 */
const BY_EVENT: Readonly<Record<string, AlarmKind>> = {
  strap_tamper: 'strap_tamper',
  gps_lost: 'gps_loss',
  unit_tamper: 'home_unit_tamper',
  unit_moved: 'home_unit_moved',
  mains_lost: 'mains_power_loss',
};

/** The alarm kind event `event` of a device of type `type` raises, if any. */
export function eventAlarm(type: DeviceType, event: string): AlarmKind | undefined {
  if (event === 'sos') return type === 'bar_victim' ? 'victim_sos' : undefined;
  return Object.hasOwn(BY_EVENT, event) ? BY_EVENT[event] : undefined;
}
