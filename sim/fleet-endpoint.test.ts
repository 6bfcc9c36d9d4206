/**
 * A fleet's link asks for its device's endpoint again at every dial (sim/transport/link.ts
 * `Endpoint`): a device whose broker moved dials the new one after its connection drops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from './broker.ts';
import { Fleet } from './fleet.ts';
import { DEFAULT_BEHAVIOUR } from './model/behaviour.ts';
import { planFleet } from './model/fleet-plan.ts';
import { planFirmwares } from './model/seed-replay.ts';
import { until } from '../test/support/until.ts';

const T0 = Date.UTC(2021, 9, 25, 12);
const SEED = 7;

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

describe("a fleet's endpoints", () => {
  it.each(['lean', 'mqttjs'] as const)('are asked again at each dial: after its broker dies, a device dials where its endpoint now points (%s link)', async (link) => {
    const first = await startEmbeddedBroker();
    const second = await startEmbeddedBroker();
    open.push(first, second);
    let target = first.url;
    const asked: number[] = [];
    const plan = planFleet({ seed: SEED, mix: { pse: 0, psem: 3, bar: 0 }, cities: ['paris'], behaviour: DEFAULT_BEHAVIOUR, start: T0 });
    const fleet = new Fleet({
      endpointOf: (slot) => {
        asked.push(slot);
        return target;
      },
      firmwares: planFirmwares(plan, SEED, T0, T0 + 3_600_000, 60), seed: SEED, speed: 60, connectRatePerS: 100, onRecord: () => {}, link,
    });
    open.push(fleet);
    expect(await fleet.connect(10_000)).toBe(3);
    const askedBefore = asked.length;

    target = second.url;
    await first.kill();
    await until(() => fleet.stats.connected === 0, 10_000, 'all three devices down');
    await until(() => fleet.stats.connected === 3, 30_000, 'all three devices up again, on the second broker');
    // Every device asked again, and the first broker is dead: they are on the second.
    expect(new Set(asked.slice(askedBefore))).toEqual(new Set([0, 1, 2]));
    expect(first.running).toBe(false);
  }, 60_000);
});
