/**
 * Records per virtual minute, as data three places share: the fleet counts them (sim/record-minutes.ts),
 * `--workers` shards send them to the parent, run.json keeps them and report.html draws them
 * (reports/). Here because protocol/ is what every folder may import (DESIGN.md "The house").
 */
export interface RecordMinuteCounts<Time = number> {
  /** When minute 0 starts: virtual ms while the run counts, an ISO time in run.json. */
  readonly from: Time;
  readonly minuteMs: number;
  /** Per minute, records published for the first time, by the minute they went out. */
  readonly sent: readonly number[];
  /** Per minute, records published again (the same seq a second time or more: ack timeout, reconnect). */
  readonly resent: readonly number[];
  /** Per minute, records the pipeline's application ack newly covered, by the minute the ack arrived. */
  readonly stored: readonly number[];
  /**
   * Per minute, the fleet's worst wake lag in real ms (sim/fleet.ts): how far behind its own clock
   * the harness woke a device in that minute. Absent from a run.json written before it; 0 for a
   * minute of only real devices, whose records the harness does not schedule.
   */
  readonly lagMs?: readonly number[];
}
