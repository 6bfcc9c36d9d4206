/**
 * How often wearers (and their devices) do what raises an alarm: one rate per kind of violation or
 * incident, per wearer (PSE, PSEM), per device (BAR units) or per pair (BAR approaches), per day.
 * The defaults are DOMAIN.md's background rates: ~1.25 alarms per wearer per day, BAR 3–4 per pair
 * per day ("for 10 bracelets, 30–40 reports a day"). A scenario overrides any field; a small test
 * fleet uses high rates so that every alarm kind occurs within a couple of virtual hours.
 */
import type { AlarmKind } from '../../protocol/alarms.ts';
import { BACKUP_BATTERY, BRACELET_BATTERY } from './battery.ts';
import type { FleetMix } from './fleet-mix.ts';
import { DEVICE_DEFAULTS, OFFLINE_TIMEOUT_MS } from './defaults.ts';

export interface Behaviour {
  // PSE: the wearer against the curfew, and the home unit.
  /** Leaves home during a curfew period (curfew_absence). */
  readonly curfewAbsencesPerDay: number;
  /** Still out when a curfew period starts (late_return). At most one per period. */
  readonly lateReturnsPerDay: number;
  /** Home unit opened (home_unit_tamper). */
  readonly homeUnitTampersPerDay: number;
  /** Home unit moved from where it was installed (home_unit_moved). */
  readonly homeUnitMovesPerDay: number;
  /** Mains power lost at the home unit (mains_power_loss); a long cut empties its backup battery. */
  readonly mainsCutsPerDay: number;
  // PSEM: zones.
  /** Goes into the exclusion zone (exclusion_zone_entry), in the daytime. */
  readonly exclusionEntriesPerDay: number;
  /** Out of the home inclusion zone during its night window: back late or out at night (inclusion_zone_exit). */
  readonly inclusionExitsPerDay: number;
  // Every bracelet: PSE (reported by the home unit), PSEM, BAR perpetrator.
  /** Strap cut or opened (strap_tamper). */
  readonly strapTampersPerDay: number;
  // Every GPS device: PSEM and both BAR units.
  /** No fix for more than 5 minutes: indoors, jamming (gps_loss). */
  readonly gpsLossesPerDay: number;
  /** Stops charging until the battery is low (low_battery); some let it die (communication_loss). */
  readonly forgetToChargePerDay: number;
  // BAR, per pair.
  /** Perpetrator comes inside the alert distance, through the pre-alert ring (bar_pre_alert + bar_alert). */
  readonly barApproachesPerDay: number;
  /** Perpetrator comes into the pre-alert ring and stops there (bar_pre_alert only). */
  readonly barPreAlertStopsPerDay: number;
  /** Victim presses SOS (victim_sos). */
  readonly sosPerDay: number;
  // Every device.
  /** DOMAIN.md: hardware fault rate 0.05 %: the device goes silent for good (communication_loss). */
  readonly hardwareFaultsPerDay: number;
}

/**
 * DOMAIN.md-based defaults. Expected alarms a day (expectedAlarmsPerDay computes them):
 *   PSE wearer:  0.42 curfew_absence + 0.45 late_return + 0.08 strap + 0.04 unit tamper
 *                + 0.04 unit moved + 0.20 mains (+ 0.009 low battery, + 0.007 comm loss from long
 *                cuts) + 0.0005 fault ≈ 1.25
 *   PSEM wearer: 0.35 exclusion + 0.33 inclusion + 0.08 strap + 0.30 gps_loss + 0.15 low battery
 *                (+ 0.039 comm loss: 26 % of those let it die) + 0.0005 fault ≈ 1.25
 *   BAR pair:    0.9 approaches × 2 (pre-alert, alert) + 0.4 pre-alert stops + 0.5 SOS + 0.08 strap
 *                + 2 units × (0.30 gps_loss + 0.15 low battery + 0.039 comm loss + 0.0005) ≈ 3.76
 */
export const DEFAULT_BEHAVIOUR: Behaviour = {
  curfewAbsencesPerDay: 0.42,
  lateReturnsPerDay: 0.45,
  homeUnitTampersPerDay: 0.04,
  homeUnitMovesPerDay: 0.04,
  mainsCutsPerDay: 0.2,
  exclusionEntriesPerDay: 0.35,
  inclusionExitsPerDay: 0.33,
  strapTampersPerDay: 0.08,
  gpsLossesPerDay: 0.3,
  forgetToChargePerDay: 0.15,
  barApproachesPerDay: 0.9,
  barPreAlertStopsPerDay: 0.4,
  sosPerDay: 0.5,
  hardwareFaultsPerDay: 0.0005,
};

/** Every rate multiplied by `factor`. */
export function scaleBehaviour(b: Behaviour, factor: number): Behaviour {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) out[k] = v * factor;
  return out as unknown as Behaviour;
}

const zero = (): Record<AlarmKind, number> => ({
  communication_loss: 0, strap_tamper: 0, low_battery: 0, exclusion_zone_entry: 0, inclusion_zone_exit: 0, gps_loss: 0,
  curfew_absence: 0, late_return: 0, home_unit_tamper: 0, home_unit_moved: 0, mains_power_loss: 0,
  bar_pre_alert: 0, bar_alert: 0, victim_sos: 0, mass_communication_loss: 0, mass_communication_recovery: 0,
});

const H = 3_600_000;

/** Share of forgotten charges that end with a dead battery for longer than the offline timeout. */
export function forgetDeathShare(drainPerHour = DEVICE_DEFAULTS.batteryDrainPerHour, offlineMs = OFFLINE_TIMEOUT_MS): number {
  const b = BRACELET_BATTERY;
  const lowToDeadH = b.lowPercent / drainPerHour + offlineMs / H;
  return Math.max(0, Math.min(1, (b.recoveryMaxH - lowToDeadH) / (b.recoveryMaxH - b.recoveryMinH)));
}

/** Share of mains cuts long enough to bring the backup battery to ≤ 15 %, and to kill it (+ offline timeout). */
export function mainsCutShares(offlineMs = OFFLINE_TIMEOUT_MS): { low: number; dead: number } {
  const b = BACKUP_BATTERY;
  const longer = (h: number): number => b.longShare * Math.max(0, Math.min(1, (b.longMaxH - h) / (b.longMaxH - b.longMinH)));
  return {
    low: longer((100 - b.lowPercent) / b.drainPerHour),
    dead: longer(100 / b.drainPerHour + offlineMs / H),
  };
}

/**
 * Expected alarms a day per kind for a fleet `mix` under behaviour `b`, from the rates and the
 * battery models (long-run averages; approaches are exact up to one every few hours per pair).
 */
export function expectedAlarmsPerDay(b: Behaviour, mix: FleetMix): Record<AlarmKind, number> {
  const e = zero();
  const cut = mainsCutShares();
  const death = forgetDeathShare();
  const gpsDevices = mix.psem + 2 * mix.bar;
  const devices = mix.pse + gpsDevices;
  e.curfew_absence = mix.pse * b.curfewAbsencesPerDay;
  e.late_return = mix.pse * b.lateReturnsPerDay;
  e.home_unit_tamper = mix.pse * b.homeUnitTampersPerDay;
  e.home_unit_moved = mix.pse * b.homeUnitMovesPerDay;
  e.mains_power_loss = mix.pse * b.mainsCutsPerDay;
  e.exclusion_zone_entry = mix.psem * b.exclusionEntriesPerDay;
  e.inclusion_zone_exit = mix.psem * b.inclusionExitsPerDay;
  e.strap_tamper = (mix.pse + mix.psem + mix.bar) * b.strapTampersPerDay;
  e.gps_loss = gpsDevices * b.gpsLossesPerDay;
  e.low_battery = gpsDevices * b.forgetToChargePerDay + mix.pse * b.mainsCutsPerDay * cut.low;
  e.communication_loss = gpsDevices * b.forgetToChargePerDay * death + mix.pse * b.mainsCutsPerDay * cut.dead + devices * b.hardwareFaultsPerDay;
  e.bar_alert = mix.bar * b.barApproachesPerDay;
  e.bar_pre_alert = mix.bar * (b.barApproachesPerDay + b.barPreAlertStopsPerDay);
  e.victim_sos = mix.bar * b.sosPerDay;
  return e;
}
