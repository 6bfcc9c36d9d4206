/**
 * The one-alarm-per-event rules of docs/RULES.md: strap_tamper, gps_loss, home_unit_tamper,
 * home_unit_moved, mains_power_loss and victim_sos. Each is "event X raises one alarm per event",
 * stateless, so they are one table rather than six files. Every such event raises, also when it
 * arrives late (after the device was offline): evaluation follows seq, not arrival.
 * Written from RULES.md, independently of the oracle in sim/model.
 *
 * Events not listed (RULES.md "Not alarms": charger_*, gps_restored, mains_restored, rf_present,
 * curfew_start; rf_absent feeds the curfew rule; unknown names) raise nothing here.
 */
import type { AlarmKind, DeviceEvent } from '../../protocol/alarms.ts';

const EVENT_ALARMS: ReadonlyMap<string, AlarmKind> = new Map<DeviceEvent, AlarmKind>([
  ['strap_tamper', 'strap_tamper'], // RULES.md strap_tamper: PSE home units report their bracelet's; PSEM; BAR perpetrator
  ['gps_lost', 'gps_loss'], // RULES.md gps_loss: the device had no fix for 5 minutes
  ['unit_tamper', 'home_unit_tamper'],
  ['unit_moved', 'home_unit_moved'],
  ['mains_lost', 'mains_power_loss'],
  ['sos', 'victim_sos'], // RULES.md victim_sos: the victim unit's button held 3 s
]);

/** The alarm kind an event raises, or undefined for an event that raises none. */
export function eventAlarm(event: string): AlarmKind | undefined {
  return EVENT_ALARMS.get(event);
}
