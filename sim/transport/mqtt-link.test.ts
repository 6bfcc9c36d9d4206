import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../broker.ts';
import { mqttLink } from './mqtt-link.ts';
import { CONNECT, SUBSCRIBE, sessionBroker } from '../../test/support/scripted-broker.ts';

const open: { close(): Promise<void> }[] = [];
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

  it('subscribes again only when the broker kept no session, as the lean link does [MQTT-3.2.2-2]', async () => {
    // Dial 1 is clean, so a Session Present there is not believed; dial 2 resumes; at dial 3 the broker has lost the session.
    const broker = await sessionBroker((dial) => dial !== 3);
    open.push(broker);
    let ups = 0;
    const link = mqttLink(broker.url, 'PSEM-00002', {
      onUp: () => ups++, onDown: () => {}, onAck: () => {}, onError: () => {},
    }, { reconnectMs: 100, keepaliveS: 60 });
    open.push(link);
    for (let dial = 1; dial <= 3; dial++) {
      await until(() => ups === dial && link.connected);
      if (dial < 3) link.reconnect();
    }
    expect(broker.types).toEqual([[CONNECT, SUBSCRIBE], [CONNECT], [CONNECT, SUBSCRIBE]]);
  });
});
