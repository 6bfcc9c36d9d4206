import { afterEach, describe, expect, it } from 'vitest';
import { virtualClock } from '../protocol/clock.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { startAcker } from '../test/support/acker.ts';
import { startEmbeddedBroker } from './broker.ts';
import { Fleet } from './fleet.ts';
import { ShardedFleet } from './fleet-shards.ts';
import { DEFAULT_BEHAVIOUR } from './model/behaviour.ts';
import { planFleet } from './model/fleet-plan.ts';
import { planFirmwares } from './model/seed-replay.ts';

const T0 = Date.UTC(2021, 9, 25, 12);
const SPEED = 600;
const END = T0 + 20 * 60_000;
const SEED = 11;
const plan = planFleet({ seed: SEED, mix: { pse: 6, psem: 6, bar: 3 }, cities: ['paris', 'lyon'], behaviour: DEFAULT_BEHAVIOUR, start: T0 });

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});
const sum = (a: readonly number[]): number => a.reduce((n, x) => n + x, 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Stands in for the pipeline (test/support/acker.ts), closed after the test. */
async function acker(url: string): Promise<void> {
  const c = await startAcker(url, 'shard-test-acker');
  open.push({ close: () => c.endAsync(true) });
}

const byDevice = (records: readonly UplinkRecord[]): Map<string, string[]> => {
  const m = new Map<string, string[]>();
  for (const r of records) (m.get(r.device) ?? m.set(r.device, []).get(r.device) as string[]).push(JSON.stringify(r));
  return m;
};

describe('the fleet over worker processes (--workers)', () => {
  it('makes the same records, device by device, as one process, and reports acks and progress back', async () => {
    const broker = await startEmbeddedBroker();
    open.push(broker);
    await acker(broker.url);

    // One process.
    const local: UplinkRecord[] = [];
    const firmwares = planFirmwares(plan, SEED, T0, END, SPEED);
    const one = new Fleet({ endpointOf: () => broker.url, firmwares, seed: SEED, connectRatePerS: 200, onRecord: (r) => local.push(r) });
    expect(await one.connect(10_000)).toBe(plan.devices.length);
    const clock1 = virtualClock({ startVirtual: T0, startReal: Date.now(), speed: SPEED });
    one.run(clock1);
    while (clock1.now() < END + 60_000) await sleep(50);
    await one.sync();
    await one.close();
    // Records per minute (sim/record-minutes.ts): every record made went out once (no fault, the
    // acker answers each batch), and every ack counted is a record the firmware saw acknowledged.
    const localMinutes = one.recordMinutes!;
    expect(sum(localMinutes.sent)).toBe(local.length);
    expect(sum(localMinutes.resent)).toBe(firmwares.reduce((n, fw) => n + fw.counters.resent, 0));
    expect(sum(localMinutes.stored)).toBe(firmwares.reduce((n, fw) => n + fw.ackedSeq, 0));
    expect(sum(localMinutes.stored)).toBe(one.stats.stored);
    expect(localMinutes.sent.length).toBeGreaterThanOrEqual(20);

    // Two worker processes, the same plan and span.
    const sharded: UplinkRecord[] = [];
    const two = await ShardedFleet.start({
      workers: 2, devices: plan.devices, endpoints: plan.devices.map(() => broker.url), modes: plan.devices.map(() => 'store-and-forward'),
      seed: SEED, start: T0, end: END, speed: SPEED, keepaliveS: 60, connectRatePerS: 200, onRecord: (r) => sharded.push(r),
    });
    open.push(two);
    expect(await two.connect(10_000)).toBe(plan.devices.length);
    const clock2 = virtualClock({ startVirtual: T0, startReal: Date.now(), speed: SPEED });
    two.run(clock2.triple);
    while (clock2.now() < END + 60_000) await sleep(50);
    await two.sync();

    expect(local.length).toBeGreaterThan(plan.devices.length * 5);
    expect(byDevice(sharded)).toEqual(byDevice(local));
    // Each record arrived once, in its device's seq order.
    for (const list of byDevice(sharded).values()) expect(list.map((j) => (JSON.parse(j) as UplinkRecord).seq)).toEqual(list.map((_, i) => i + 1));

    // The parent's view of each device follows the shards: what was made, and (within a state
    // period) what the acker acknowledged.
    const progress = await two.progress();
    expect(progress.map((d) => d.deviceId)).toEqual(plan.devices.map((d) => d.deviceId));
    for (const [i, d] of progress.entries()) {
      expect(two.views[i]?.lastSeq).toBe(d.lastSeq);
      expect(d.ackedSeq).toBeGreaterThan(0);
    }
    await sleep(300);
    expect(two.views.map((v) => v.ackedSeq)).toEqual((await two.progress()).map((d) => d.ackedSeq));
    expect(two.stats.publishes).toBeGreaterThan(0);
    // The shards' records per minute come back with their state, summed minute by minute.
    const shardMinutes = two.recordMinutes!;
    expect(sum(shardMinutes.sent)).toBe(sharded.length);
    expect(sum(shardMinutes.stored)).toBe(two.views.reduce((n, v) => n + v.ackedSeq, 0));
    expect(sum(shardMinutes.stored)).toBe(two.stats.stored);
  }, 60_000);
});
