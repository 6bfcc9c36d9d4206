import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type RunningBroker } from '../broker.ts';
import { mqttLink } from './mqtt-link.ts';
import type { DeviceLink } from './link.ts';

const open: (RunningBroker | DeviceLink)[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

const until = async (cond: () => boolean, ms = 10_000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('mqtt link', () => {
  it('dials the endpoint it resolves at each reconnect: an endpoint move is followed', async () => {
    const a = await startEmbeddedBroker();
    const b = await startEmbeddedBroker();
    open.push(a, b);
    let target = a.url;
    let ups = 0;
    const link = mqttLink(() => target, 'PSEM-00001', {
      onUp: () => ups++, onDown: () => {}, onAck: () => {}, onError: () => {},
    }, { reconnectMs: 100, keepaliveS: 60 });
    open.push(link);
    await until(() => ups === 1 && link.connected);
    target = b.url;
    link.reconnect();
    await until(() => ups === 2 && link.connected);
    // The second session is on broker B: closing A does not touch it.
    await a.close();
    open.splice(open.indexOf(a), 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(link.connected).toBe(true);
    expect(ups).toBe(2);
  });
});
