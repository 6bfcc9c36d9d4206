/**
 * Defaults of the device and the service levels, each from ../shared/DOMAIN.md (vendor manuals and
 * NIJ/GAO service levels). Scenarios override them.
 */
import type { AlarmKind } from '../../protocol/alarms.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const DEVICE_DEFAULTS = {
  /** DOMAIN.md: GPS fix, compliant: every 60 s. */
  fixIntervalMs: 60 * SECOND,
  /** DOMAIN.md: GPS fix while a rule is violated: every 15 s. */
  violationFixIntervalMs: 15 * SECOND,
  /** DOMAIN.md: at rest, after 10 min without motion, 1 fix/hour. */
  restAfterMs: 10 * MINUTE,
  restFixIntervalMs: HOUR,
  /** DOMAIN.md: heartbeat 180 s (30–180 s). */
  heartbeatMs: 180 * SECOND,
  /**
   * BAR units use the fastest heartbeat of DOMAIN.md's range (30–180 s): a pair's distance alarms
   * wait until both units have reported past the triggering time (RULES.md "watermark"), so the
   * victim unit's heartbeat bounds how late a proximity alarm can be.
   */
  barHeartbeatMs: 30 * SECOND,
  /** DOMAIN.md: server response timeout 5 s (GT06 practice); we back off from there, see firmware.ts. */
  ackTimeoutMs: 5 * SECOND,
  /** DOMAIN.md: retries 3 (GT06 practice): after 3 ack timeouts in a row the device reconnects. */
  maxRetries: 3,
  /** Cap of the resend backoff, so a long outage does not turn into a resend storm. */
  maxAckTimeoutMs: 5 * MINUTE,
  /** DOMAIN.md: device record buffer ≥ 2,000 records; DESIGN.md: bounded outbox, default 2,000. */
  outboxLimit: 2000,
  /**
   * Records in one publish, and the send window: at most this many unacked records are on their
   * way at once (a backlog goes out batch by batch, each after the previous one's ack — firmware.ts).
   */
  maxBatch: 50,
  /** DOMAIN.md: battery ≤ 50 h on a charge → 2 %/h. */
  batteryDrainPerHour: 2,
  /** DOMAIN.md: ≥ 2 h charging a day; 50 %/h puts back a day's drain in an hour and fills an empty battery in 2 h. */
  batteryChargePerHour: 50,
  /** docs/RULES.md gps_loss: the device reports gps_lost after 5 minutes without a fix. */
  gpsLostAfterMs: 5 * MINUTE,
  /** DOMAIN.md: the PSE bracelet's RF beacon to its home unit, every 20 s (legacy kit). */
  rfBeaconMs: 20 * SECOND,
  /** docs/RULES.md: the home unit reports rf_absent when it missed the beacon for 60 s. */
  rfAbsentAfterMs: 60 * SECOND,
} as const;

/** DOMAIN.md: "a device with no data for 600 s is no longer online" (common tracking servers). */
export const OFFLINE_TIMEOUT_MS = 600 * SECOND;

/**
 * SLA per alarm kind, trigger → operator feed. DOMAIN.md service levels (NIJ-1004.00, unconfirmed):
 * tamper → data centre ≤ 3 min; any other alarm → monitoring centre, active device ≤ 4 min.
 */
export const DEFAULT_SLA_MS: Readonly<Record<AlarmKind, number>> = {
  communication_loss: 4 * MINUTE,
  strap_tamper: 3 * MINUTE,
  low_battery: 4 * MINUTE,
  exclusion_zone_entry: 4 * MINUTE,
  inclusion_zone_exit: 4 * MINUTE,
  gps_loss: 4 * MINUTE,
  curfew_absence: 4 * MINUTE,
  late_return: 4 * MINUTE,
  home_unit_tamper: 3 * MINUTE,
  home_unit_moved: 4 * MINUTE,
  mains_power_loss: 4 * MINUTE,
  bar_pre_alert: 4 * MINUTE,
  bar_alert: 4 * MINUTE,
  victim_sos: 4 * MINUTE,
  // DOMAIN.md lists loss of communication among the required alarms, at the 4-minute level; the
  // mass alarm's trigger is the moment the share of silent devices is reached (docs/RULES.md).
  mass_communication_loss: 4 * MINUTE,
  mass_communication_recovery: 4 * MINUTE,
};

export const TIME = { SECOND, MINUTE, HOUR } as const;

/** Real milliseconds a device waits for the pipeline's ack at least, whatever the speed. */
export const ACK_TIMEOUT_REAL_FLOOR_MS = 2000;

/**
 * The device defaults for a run at `speed`. Pipeline and network latency do not compress with
 * virtual time: DOMAIN.md's 5 s ack timeout is 21 ms of real time at speed 240, and every record
 * would be resent before its ack could arrive. So the ack timeout never drops below
 * ACK_TIMEOUT_REAL_FLOOR_MS of real time.
 */
export function deviceConfigForSpeed(speed: number, base: typeof DEVICE_DEFAULTS = DEVICE_DEFAULTS): { -readonly [K in keyof typeof DEVICE_DEFAULTS]: number } {
  const ackTimeoutMs = Math.max(base.ackTimeoutMs, ACK_TIMEOUT_REAL_FLOOR_MS * speed);
  return { ...base, ackTimeoutMs, maxAckTimeoutMs: Math.max(base.maxAckTimeoutMs, ackTimeoutMs) };
}
