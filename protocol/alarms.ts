/**
 * Alarm kinds the operator feed carries. docs/RULES.md states each rule exactly; the oracle
 * (sim/model) and the reference pipeline implement them separately from that text.
 */
export const ALARM_KINDS = ['exclusion_zone_entry', 'communication_loss'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export function isAlarmKind(x: unknown): x is AlarmKind {
  return typeof x === 'string' && (ALARM_KINDS as readonly string[]).includes(x);
}
