import type { AlarmKind } from '../../../protocol/alarms.ts';

/** One alarm the pipeline must raise (docs/RULES.md). */
export interface Expectation {
  readonly deviceId: string;
  readonly kind: AlarmKind;
  /** Seq of the triggering record (communication_loss: the last record before the silence). */
  readonly seq: number;
  /** Device time of that record. */
  readonly deviceTime: number;
  /** When the alarm became due: the latency clock starts here (docs/RULES.md "Trigger time"). */
  readonly triggerTime: number;
  /** Zone alarms (exclusion_zone_entry, inclusion_zone_exit). */
  readonly zoneId?: string;
  /** BAR distance alarms (bar_pre_alert, bar_alert). */
  readonly pairId?: string;
  /**
   * communication_loss: device time of the record that ended the silence (the alarm is open until
   * then); absent while the device is still silent. Mass communication loss counts open alarms.
   */
  readonly silentUntil?: number;
}

/** RULES.md "Evaluation order": unless a rule says otherwise, the triggering record's seq and device time. */
export function atRecord(r: { device: string; seq: number; time: number }, kind: AlarmKind): Expectation {
  return { deviceId: r.device, kind, seq: r.seq, deviceTime: r.time, triggerTime: r.time };
}
