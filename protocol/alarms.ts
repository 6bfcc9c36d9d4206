/**
 * Alarm kinds the operator feed carries, and the device event names the uplink carries.
 * docs/RULES.md states each rule exactly; the oracle (sim/model) and the reference pipeline
 * implement them separately from that text.
 */
export const DEVICE_ALARM_KINDS = [
  // every device type
  'communication_loss',
  'strap_tamper',
  'low_battery',
  // PSEM (GPS)
  'exclusion_zone_entry',
  'inclusion_zone_exit',
  'gps_loss',
  // PSE (home detention: RF bracelet + home unit)
  'curfew_absence',
  'late_return',
  'home_unit_tamper',
  'home_unit_moved',
  'mains_power_loss',
  // BAR (anti-approach pair)
  'bar_pre_alert',
  'bar_alert',
  'victim_sos',
] as const;
export type DeviceAlarmKind = (typeof DEVICE_ALARM_KINDS)[number];

/**
 * Alarms about a share of one mobile operator's devices, not about one device (docs/RULES.md
 * "mass_communication_loss"): the alarm nobody raised in 2021 (DOMAIN.md). Their `deviceId` on the
 * feed is the operator id and their `seq` the outage's ordinal.
 */
export const FLEET_ALARM_KINDS = ['mass_communication_loss', 'mass_communication_recovery'] as const;
export type FleetAlarmKind = (typeof FLEET_ALARM_KINDS)[number];

export const ALARM_KINDS = [...DEVICE_ALARM_KINDS, ...FLEET_ALARM_KINDS] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export function isFleetAlarmKind(kind: string): kind is FleetAlarmKind {
  return (FLEET_ALARM_KINDS as readonly string[]).includes(kind);
}

/**
 * Device event names (`type: "event"` records). Devices send them at once and retry until acked
 * (DOMAIN.md "alarm upload: immediate"). Unknown names are stored and otherwise ignored.
 */
export const DEVICE_EVENTS = [
  'strap_tamper', // bracelet strap cut or opened (PSE bracelet via its home unit, PSEM, BAR perpetrator)
  'gps_lost', // no GPS fix for 5 minutes (indoors, jamming)
  'gps_restored',
  'charger_connected',
  'charger_disconnected',
  'rf_absent', // PSE home unit: the bracelet's RF beacon (every 20 s) missed for 60 s
  'rf_present',
  'unit_tamper', // PSE home unit opened
  'unit_moved', // PSE home unit moved from where it was installed
  'mains_lost', // PSE home unit on its backup battery
  'mains_restored',
  'curfew_start', // PSE home unit marks the start of a curfew period it was programmed with
  'sos', // BAR victim unit: SOS button held 3 s
] as const;
export type DeviceEvent = (typeof DEVICE_EVENTS)[number];

/** Device types. A BAR pair is two devices: the perpetrator's bracelet and the victim's unit. */
export const DEVICE_TYPES = ['pse', 'psem', 'bar_perpetrator', 'bar_victim'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];
