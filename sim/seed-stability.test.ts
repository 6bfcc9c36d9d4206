/**
 * A scenario's seed is evidence (STYLE.md §4, sim/model/random.ts): the same seed must give the same devices,
 * byte for byte, from one version of Vigil to the next. The other model tests check behaviour and
 * that a seed replays the same within one version; this one pins what a mixed fleet records to a
 * digest taken from the model as it is, so that a change meant only to make the model faster or
 * smaller (issue 7: packing its state) cannot change a device's records unnoticed.
 *
 * When a change of the model's behaviour is meant, this test fails: update the digest in the same
 * commit and say in its message that runs recorded before it replay differently. (Here, not in
 * sim/model: the model takes no Node built-in, and the digest is node:crypto's.)
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR } from './model/behaviour.ts';
import { deviceConfigForSpeed } from './model/defaults.ts';
import { createFirmware } from './model/fleet-plan.ts';
import { HOUR, plan } from './model/test-support.ts';

describe('a seed is evidence', () => {
  it("a mixed fleet's records and batches over 26 virtual hours are byte for byte those of this model's digest", () => {
    const seed = 7;
    // Across the change to summer time in France (2026-03-29 01:00 UTC): local-time rules move an hour.
    const start = Date.parse('2026-03-28T22:00:00Z');
    const fleet = plan(seed, { pse: 60, psem: 30, bar: 15 }, DEFAULT_BEHAVIOUR, start);
    const firmwares = fleet.devices.map((d) => createFirmware(d, seed, start, deviceConfigForSpeed(60)));
    const records = createHash('sha256');
    const batches = createHash('sha256');
    let made = 0;
    let sent = 0;
    const step = 30_000;
    for (let t = start, k = 0; t < start + 26 * HOUR; t += step, k++) {
      firmwares.forEach((fw, i) => {
        // Some links drop now and then, some acks lag, a cohort's clocks jump: the firmware's paths too.
        const up = !(i % 7 === 0 && k % 400 > 300);
        if (i % 11 === 0 && k === 1000) fw.setClockSkew(90_000);
        for (const batch of fw.wake(t, up, (r) => {
          made++;
          records.update(JSON.stringify(r));
        })) {
          sent++;
          batches.update(`${batch.map((r) => r.seq).join(',')}|`);
        }
        if (up && !(i % 5 === 0 && k % 50 < 20)) fw.onAck(fw.lastSeq);
        if (fw.takeReconnect()) fw.onLinkUp();
      });
    }
    expect({ made, sent, records: records.digest('hex'), batches: batches.digest('hex') }).toEqual(GOLDEN);
  });
});

/** Taken from the model at 810167b. */
const GOLDEN = {
  made: 145_781,
  sent: 139_401,
  records: '3499aa2d73a207d27509ad41b157720880cdc6d06d12b6bd2cf088734cb6b4c6',
  batches: '16535dd224aef5d7dcba14638a606717e0922a280bd960f79b83d41e94fe5547',
};
