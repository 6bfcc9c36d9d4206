/**
 * Expectations from the seed alone (observe mode, DESIGN.md "Scale": determinism is the oracle).
 * Every device's firmware and record source are pure and seeded, so the records a planned fleet
 * makes up to the end of a timeline — and so the alarms the oracle expects of them — follow from
 * the plan without a device running: whoever runs the devices (a Vigil fleet, k6 on many machines)
 * makes exactly these records, with these seqs and device times. Only when each record reaches the
 * pipeline depends on the network, and that is what the feed tells.
 */
import type { UplinkRecord } from '../../protocol/uplink.ts';
import { deviceConfigForSpeed } from './defaults.ts';
import type { Firmware } from './firmware.ts';
import { createFirmware, type FleetPlan } from './fleet-plan.ts';
import { Oracle, type Expectation, type OracleConfig } from './oracle/oracle.ts';

/**
 * Each planned device's firmware as a run makes it: the run's device config (it depends on the
 * speed), recording up to `end` and no further.
 */
export function planFirmwares(plan: Pick<FleetPlan, 'devices'>, seed: number, start: number, end: number, speed: number): Firmware[] {
  const cfg = deviceConfigForSpeed(speed);
  return plan.devices.map((d) => {
    const fw = createFirmware(d, seed, start, cfg);
    fw.stopRecordingAfter(end);
    return fw;
  });
}

export interface SeedReplay {
  /** Every alarm the oracle expects, including those it closes the run with (oracle.finish). */
  readonly expectations: Expectation[];
  /** Per device, the highest seq it makes by the end: what the pipeline must have stored. */
  readonly lastSeq: ReadonlyMap<string, number>;
  readonly records: number;
}

/**
 * Replays the fleet offline from `start` to `end` through a fresh oracle. Devices advance together
 * in steps of `stepMs` virtual ms, so the oracle sees them interleaved in rough time order as in a
 * live run (its result does not depend on the interleaving: docs/RULES.md "watermark"), and no
 * device's outbox holds more than one step of records.
 */
export function replaySeed(
  input: { plan: FleetPlan; oracle: OracleConfig; seed: number; start: number; end: number; speed: number },
  stepMs = 60_000,
): SeedReplay {
  const firmwares = planFirmwares(input.plan, input.seed, input.start, input.end, input.speed);
  const oracle = new Oracle(input.oracle);
  const expectations: Expectation[] = [];
  let records = 0;
  const onRecord = (r: UplinkRecord): void => {
    records++;
    for (const e of oracle.observe(r)) expectations.push(e);
  };
  for (let t = input.start; ; t = Math.min(t + stepMs, input.end)) {
    for (const fw of firmwares) {
      // Link down: the firmware makes what is due and publishes nothing; the ack empties its outbox.
      fw.wake(t, false, onRecord);
      fw.onAck(fw.lastSeq);
    }
    if (t >= input.end) break;
  }
  expectations.push(...oracle.finish(input.end));
  return { expectations, lastSeq: new Map(firmwares.map((fw) => [fw.deviceId, fw.lastSeq])), records };
}
