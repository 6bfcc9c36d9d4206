/**
 * RunNetwork and an endpoint move, against the embedded broker: the new address is open before the
 * timeline, a device dials it once its DNS moment has passed on the virtual clock, and the move and
 * its DNS moments are journaled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type RunningBroker } from '../../sim/broker.ts';
import { SilenceTracker } from '../../verify/absence.ts';
import type { JournalEntry } from '../../verify/journal.ts';
import type { PlannedFault } from '../faults.ts';
import { RunNetwork } from './network.ts';

describe('RunNetwork: endpoint move', () => {
  let broker: RunningBroker;
  let net: RunNetwork;
  const journal: JournalEntry[] = [];
  const T = Date.parse('2021-10-25T14:00:00+02:00');
  const from = T + 30 * 60_000;
  const until = T + 60 * 60_000;
  const operatorOf = new Map([['a', 'op'], ['b', 'op'], ['c', 'op'], ['d', 'op']]);
  const planned: PlannedFault = {
    fault: { kind: 'endpoint-move', name: 'move', from, until, target: {}, dnsTtl: 15 * 60_000 },
    devices: ['a', 'b', 'c'],
    healAt: new Map([['a', until], ['b', until], ['c', from + 60_000]]),
    // c's cache outlives its heal: it never moves.
    dnsAt: new Map([['a', from + 60_000], ['b', from + 10 * 60_000], ['c', from + 2 * 60_000]]),
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    net = new RunNetwork({
      brokerUrl: broker.url, faults: [planned], operatorOf, seed: 1,
      tracker: new SilenceTracker({ offlineTimeoutMs: 600_000, toleranceMs: 60_000, end: T + 90 * 60_000 }),
      madeSeq: () => 0, journal: (e) => journal.push(e), log: () => {}, routeAll: false,
    });
    await net.start();
  });

  afterAll(async () => {
    await net?.close();
    await broker?.close();
  });

  it('answers the new address once a device DNS moment has passed, and journals it', () => {
    const old = net.endpointOf('a');
    expect(old).not.toBe(broker.url);
    expect(['a', 'b', 'c'].map((id) => net.endpointOf(id))).toEqual([old, old, old]); // before the clock: the old address
    // No fault targets d: it dials the broker itself (a proxy with no fault is a pass-through).
    expect(net.endpointOf('d')).toBe(broker.url);
    // The virtual clock 5 minutes after from (speed 1: it barely moves during the test).
    net.setClock({ startVirtual: from + 5 * 60_000, startReal: Date.now(), speed: 1 });
    const moved = net.endpointOf('a');
    expect(moved).not.toBe(old);
    expect(net.endpointOf('b')).toBe(old); // its cache has 5 more minutes
    expect(net.endpointOf('c')).toBe(old); // healed before its DNS moment
    expect(net.endpointOf('d')).toBe(broker.url); // not targeted

    net.tick(from);
    net.tick(from + 5 * 60_000);
    const faults = journal.filter((e) => e.t === 'fault');
    expect(faults[0]).toMatchObject({ event: 'start', kind: 'endpoint-move', fault: 'move', devices: 3, effect: { kind: 'partition' }, dnsTtl: 900_000 });
    expect(faults.filter((e) => e.event === 'dns')).toEqual([{ t: 'fault', event: 'dns', at: from + 5 * 60_000, fault: 'move', devices: ['a'] }]);
    expect(faults.filter((e) => e.event === 'heal')).toEqual([{ t: 'fault', event: 'heal', at: from + 5 * 60_000, fault: 'move', devices: ['c'] }]);

    net.setClock({ startVirtual: from + 11 * 60_000, startReal: Date.now(), speed: 1 });
    expect(net.endpointOf('b')).toBe(moved); // same shard and operator: the same new listener
    expect(net.endpointOf('c')).toBe(old);
  });
});
