import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { startAedes, type RunningBroker } from '../test/support/aedes.ts';
import { MqttSession, type SessionOptions } from './mqtt-session.ts';

let broker: RunningBroker;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  broker = await startAedes();
  closers.push(() => broker.close());
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A session on the test broker recording what it hears; `ready` resolves at each granted subscription. */
function open(clientId = 'pipeline-test', more: Partial<SessionOptions> = {}) {
  const messages: string[] = [];
  const events: string[] = [];
  let granted: () => void = () => {};
  const session = new MqttSession({
    url: broker.url, clientId, subscription: 'vigil/+/up', reconnectMs: 100,
    onConnect: (present) => events.push(`connect ${String(present)}`),
    onSubscribed: (qos) => {
      events.push(`subscribed ${String(qos)}`);
      granted();
    },
    onMessage: (topic, payload) => messages.push(`${topic} ${payload.toString()}`),
    onError: (m) => events.push(`error ${m}`),
    onOffline: () => events.push('offline'),
    ...more,
  });
  closers.push(() => session.end());
  const subscribed = (): Promise<void> => new Promise((resolve) => (granted = resolve));
  return { session, messages, events, subscribed };
}

async function device(id = 'dev-1'): Promise<MqttClient> {
  const c = await connectAsync(broker.url, { clientId: id, protocolVersion: 4 });
  closers.push(() => c.endAsync());
  return c;
}

/** Waits (vitest's vi.waitFor, up to 5 s) until `ok`; fails naming `what`. */
async function until(what: string, ok: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(ok(), what).toBe(true), { timeout: 5000, interval: 10 });
}

it('a persistent session: what is published while it is away arrives after it reconnects, once', async () => {
  const a = open();
  await a.subscribed();
  expect(a.session.connected).toBe(true);
  expect(a.events).toEqual(['connect false', 'subscribed 1']);
  const d = await device();
  await d.publishAsync('vigil/dev-1/up', 'one', { qos: 1 });
  await until('one', () => a.messages.length === 1);
  await a.session.end();
  expect(a.session.connected).toBe(false);

  await d.publishAsync('vigil/dev-1/up', 'two', { qos: 1 });
  const b = open();
  await b.subscribed();
  expect(b.events[0]).toBe('connect true');
  await until('two', () => b.messages.length === 1);
  expect(b.messages).toEqual(['vigil/dev-1/up two']);
  // PUBACKed on receipt: a third session gets nothing again.
  await b.session.end();
  const c = open();
  await c.subscribed();
  await d.publishAsync('vigil/dev-1/up', 'three', { qos: 1 });
  await until('three', () => c.messages.length === 1);
  expect(c.messages).toEqual(['vigil/dev-1/up three']);
});

it('publishes at QoS 1, several in one write', async () => {
  const s = open();
  await s.subscribed();
  const d = await device();
  const got: string[] = [];
  d.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  await d.subscribeAsync('vigil/dev-1/ack', { qos: 1 });
  s.session.corked(() => {
    expect(s.session.publish('vigil/dev-1/ack', '{"ack":1}')).toBe(true);
    expect(s.session.publish('vigil/dev-1/ack', '{"ack":2}')).toBe(true);
  });
  await until('the acks', () => got.length === 2);
  expect(got).toEqual(['vigil/dev-1/ack {"ack":1}', 'vigil/dev-1/ack {"ack":2}']);
});

it('slow: holds publishes (nothing read, nothing PUBACKed) until no longer slow, then takes them in order', async () => {
  const s = open();
  await s.subscribed();
  s.session.setSlow(60_000);
  const d = await device();
  for (const n of [1, 2, 3]) await d.publishAsync('vigil/dev-1/up', String(n), { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  expect(s.messages).toEqual([]);
  s.session.setSlow(0);
  await until('the held publishes', () => s.messages.length === 3);
  expect(s.messages).toEqual(['vigil/dev-1/up 1', 'vigil/dev-1/up 2', 'vigil/dev-1/up 3']);
});

it('a broker that dies: offline, then it dials again and subscribes again (the new broker has no session)', async () => {
  const s = open();
  await s.subscribed();
  await broker.kill();
  await until('offline', () => s.events.includes('offline'));
  expect(s.session.connected).toBe(false);
  expect(s.session.publish('vigil/dev-1/ack', 'x')).toBe(false);
  const again = s.subscribed();
  await broker.restart();
  await again;
  expect(s.events.filter((e) => e.startsWith('connect'))).toEqual(['connect false', 'connect false']);
  const d = await device();
  await d.publishAsync('vigil/dev-1/up', 'after', { qos: 1 });
  await until('after', () => s.messages.length === 1);
});

it('refuses a broker URL it cannot dial, naming it', () => {
  expect(() => open('x', { url: 'http://127.0.0.1:9001' })).toThrow(/http:\/\/127\.0\.0\.1:9001: the pipeline dials mqtt:\/\/, tcp:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ brokers only/);
});
