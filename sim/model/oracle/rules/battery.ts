/**
 * low_battery (docs/RULES.md "Every device type"): raise at battery ≤ 15 while *ok*, back to *ok*
 * at ≥ 30 without an alarm; 16–29 changes nothing, so a battery hovering at 15 % raises once.
 * Any record type carries the battery level.
 */
import type { UplinkRecord } from '../../../../protocol/uplink.ts';
import { atRecord, type Expectation } from '../expectation.ts';

export const LOW_AT = 15;
export const OK_AT = 30;

/** Returns the new *low* state and the alarm, if this record raises one. */
export function battery(low: boolean, r: UplinkRecord): { low: boolean; alarm?: Expectation } {
  if (r.battery <= LOW_AT) return low ? { low } : { low: true, alarm: atRecord(r, 'low_battery') };
  if (r.battery >= OK_AT) return { low: false };
  return { low };
}
