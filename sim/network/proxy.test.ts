/**
 * Each fault effect on the wire: real mqtt.js devices publish through the operator proxy, a
 * subscriber connected straight to the broker (aedes, and mosquitto for the 2021 failures) sees
 * what got through.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { generate, parser, type Packet } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../broker.ts';
import { startMosquitto, type Mosquitto } from '../../test/support/mosquitto.ts';
import { OperatorProxy, type FaultEffect, type NetworkEvent, type VirtualTime } from './proxy.ts';

const UP = (id: string): string => `vigil/v1/devices/${id}/up`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const realClock = (speed = 1): VirtualTime => ({ now: () => Date.now(), speed });

/** A broker, a subscriber on every uplink straight to it, and proxies / devices to clean up. */
function harness(startBroker: () => Promise<{ url: string; close(): Promise<void> }>) {
  const h = {
    brokerUrl: '',
    brokerPort: 0,
    arrivals: new Map<string, number>(),
    clients: [] as MqttClient[],
    sockets: [] as Socket[],
    proxies: [] as OperatorProxy[],
  };
  let broker: { url: string; close(): Promise<void> };
  let sub: MqttClient;
  beforeAll(async () => {
    broker = await startBroker();
    h.brokerUrl = broker.url;
    h.brokerPort = Number(new URL(broker.url).port);
    sub = mqtt.connect(broker.url, { clientId: 'watcher', reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      sub.once('connect', () => sub.subscribe('vigil/v1/devices/+/up', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
      sub.once('error', reject);
    });
    sub.on('message', (_topic, payload) => h.arrivals.set(payload.toString(), performance.now()));
  });
  afterEach(async () => {
    await Promise.all(h.clients.splice(0).map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))));
    for (const s of h.sockets.splice(0)) s.destroy();
    await Promise.all(h.proxies.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await new Promise<void>((r) => sub.end(true, {}, () => r()));
    await broker.close();
  });
  return h;
}

type Harness = ReturnType<typeof harness>;

async function startProxy(h: Harness, clock: VirtualTime = realClock()) {
  const events: NetworkEvent[] = [];
  const uplinks: { deviceId: string; payload: string }[] = [];
  const proxy = new OperatorProxy({
    operatorId: 'op-test',
    upstream: { host: '127.0.0.1', port: h.brokerPort },
    clock,
    seed: 1,
    onEvent: (e) => events.push(e),
    onUplinkForwarded: (deviceId, payload) => uplinks.push({ deviceId, payload: payload.toString() }),
  });
  h.proxies.push(proxy);
  const { port } = await proxy.start();
  return { proxy, port, url: `mqtt://127.0.0.1:${port}`, events, uplinks };
}

/** A device client; resolves once connected (or rejects on the first error / close without connect). */
function device(h: Harness, url: string, id: string, opts: IClientOptions = {}): MqttClient {
  const c = mqtt.connect(url, { clientId: id, protocolVersion: 4, keepalive: 0, reconnectPeriod: 0, connectTimeout: 2000, ...opts });
  c.on('error', () => {}); // resets and refusals are what these tests provoke
  h.clients.push(c);
  return c;
}

function connected(c: MqttClient, withinMs = 2000): Promise<boolean> {
  if (c.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => done(false), withinMs);
    const done = (ok: boolean): void => {
      clearTimeout(t);
      c.off('connect', onConnect);
      c.off('close', onClose);
      resolve(ok);
    };
    const onConnect = (): void => done(true);
    const onClose = (): void => done(false);
    c.on('connect', onConnect);
    c.on('close', onClose);
  });
}

async function online(h: Harness, url: string, id: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = device(h, url, id, opts);
  expect(await connected(c)).toBe(true);
  return c;
}

/** Publishes QoS 1; resolves with the real ms the PUBACK took, or undefined if none came within `withinMs`. */
function publish(c: MqttClient, id: string, payload: string | Buffer, withinMs = 2000): Promise<number | undefined> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), withinMs);
    c.publish(UP(id), payload, { qos: 1 }, (err) => {
      clearTimeout(t);
      resolve(err ? undefined : performance.now() - t0);
    });
  });
}

/** Real ms from `since` until the subscriber saw `marker`, or undefined within `withinMs`. */
async function arrival(h: Harness, marker: string, since: number, withinMs = 2000): Promise<number | undefined> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    const at = h.arrivals.get(marker);
    if (at !== undefined) return at - since;
    await sleep(10);
  }
  return undefined;
}

function closeSeen(c: MqttClient): Promise<void> {
  return new Promise((resolve) => c.once('close', () => resolve()));
}

let markerSeq = 0;
const marker = (what: string): string => `${what}-${++markerSeq}-${Date.now()}`;

/** A hand-driven MQTT client, to see exactly which packets the proxy answers with. */
class RawClient {
  readonly packets: Packet[] = [];
  readonly socket: Socket;
  private readonly waiters: (() => void)[] = [];
  error: NodeJS.ErrnoException | undefined;
  closed = false;

  constructor(h: Harness, port: number) {
    this.socket = tcpConnect({ host: '127.0.0.1', port });
    h.sockets.push(this.socket);
    const p = parser();
    p.on('packet', (x) => {
      this.packets.push(x);
      this.waiters.splice(0).forEach((w) => w());
    });
    this.socket.on('data', (d: Buffer) => p.parse(d));
    this.socket.on('error', (e) => (this.error = e));
    this.socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet));
  }

  async next(cmd: Packet['cmd'], withinMs = 1000): Promise<Packet | undefined> {
    const deadline = performance.now() + withinMs;
    for (;;) {
      const i = this.packets.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return this.packets.splice(i, 1)[0];
      const left = deadline - performance.now();
      if (left <= 0 || this.closed) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async closedWithin(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!this.closed && performance.now() < deadline) await sleep(10);
    return this.closed;
  }
}

const connectPacket = (clientId: string): Packet => ({ cmd: 'connect', clientId, protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0 });

describe('OperatorProxy on aedes', () => {
  const h = harness(() => startEmbeddedBroker());

  it('passes traffic through untouched with no effect, and reports every uplink', async () => {
    const { url, proxy, uplinks, events } = await startProxy(h);
    const c = await online(h, url, 'pass-1');
    const m = marker('pass');
    const t0 = performance.now();
    expect(await publish(c, 'pass-1', m)).toBeDefined();
    expect(await arrival(h, m, t0)).toBeDefined();
    // Downlink too: a message to the device's ack topic comes back through the proxy.
    const got = new Promise<string>((resolve) => c.on('message', (_t, p) => resolve(p.toString())));
    await new Promise<void>((r) => c.subscribe('vigil/v1/devices/pass-1/ack', { qos: 1 }, () => r()));
    const direct = await online(h, h.brokerUrl, 'pipeline-stand-in');
    direct.publish('vigil/v1/devices/pass-1/ack', 'ack-7', { qos: 1 });
    expect(await got).toBe('ack-7');
    expect(uplinks).toEqual([{ deviceId: 'pass-1', payload: m }]);
    expect(proxy.stats.packetsUp).toBeGreaterThanOrEqual(3); // CONNECT, PUBLISH, SUBSCRIBE
    expect(proxy.stats.packetsDropped).toBe(0);
    expect(events.find((e) => e.type === 'identified')).toMatchObject({ deviceId: 'pass-1', protocolVersion: 4, operatorId: 'op-test' });
  });

  it('black-hole: a publish never arrives and gets no PUBACK; a new connection is never answered', async () => {
    const { url, proxy, uplinks } = await startProxy(h);
    const c = await online(h, url, 'bh-1');
    proxy.apply('bh', { kind: 'black-hole' }, ['bh-1']);
    const m = marker('bh');
    const t0 = performance.now();
    expect(await publish(c, 'bh-1', m, 600)).toBeUndefined();
    expect(await arrival(h, m, t0, 200)).toBeUndefined();
    expect(c.connected).toBe(true); // TCP stays up: the device cannot tell
    const fresh = device(h, url, 'bh-1', { connectTimeout: 600 });
    expect(await connected(fresh, 1000)).toBe(false);
    expect(uplinks).toEqual([]);
    expect(proxy.stats.byFault.get('bh')?.packetsDropped).toBeGreaterThanOrEqual(2); // the PUBLISH and the new CONNECT
  });

  it('black-hole healed: a connection that lost bytes stays silent, one that lost nothing resumes', async () => {
    const { url, proxy } = await startProxy(h);
    const lost = await online(h, url, 'bhh-1');
    const quiet = await online(h, url, 'bhh-2');
    proxy.apply('bh', { kind: 'black-hole' }, ['bhh-1', 'bhh-2']);
    expect(await publish(lost, 'bhh-1', marker('lost'), 300)).toBeUndefined();
    proxy.heal('bh');
    const m = marker('quiet');
    expect(await publish(quiet, 'bhh-2', m)).toBeDefined();
    expect(await publish(lost, 'bhh-1', marker('still-lost'), 400)).toBeUndefined();
  });

  it('ack-then-lose: the publisher gets its PUBACK, the subscriber nothing; a new CONNECT gets a CONNACK', async () => {
    const { url, proxy, uplinks, events } = await startProxy(h);
    const c = await online(h, url, 'atl-1');
    proxy.apply('atl', { kind: 'ack-then-lose' }, ['atl-1']);
    const m = marker('atl');
    const t0 = performance.now();
    expect(await publish(c, 'atl-1', m)).toBeDefined();
    expect(await arrival(h, m, t0, 500)).toBeUndefined();
    expect(uplinks).toEqual([]);
    // A device connecting now is answered by the gateway (as a broker keeping its session would:
    // it asked to resume) and also loses everything.
    const late = device(h, url, 'atl-2', { clean: false });
    proxy.apply('atl', { kind: 'ack-then-lose' }, ['atl-2']);
    const sessionPresent = new Promise<boolean>((r) => late.once('connect', (ack) => r(ack.sessionPresent)));
    expect(await sessionPresent).toBe(true);
    const m2 = marker('atl-late');
    expect(await publish(late, 'atl-2', m2)).toBeDefined();
    expect(await arrival(h, m2, performance.now(), 300)).toBeUndefined();
    const s = proxy.stats.byFault.get('atl')!;
    expect(s.fakeReplies).toMatchObject({ puback: 2, connack: 1 });
    expect(events.filter((e) => e.type === 'fake-reply' && e.packet === 'puback')).toHaveLength(2);
  });

  it('ack-then-lose answers PINGREQ, SUBSCRIBE, QoS 2 and UNSUBSCRIBE as a broker would', async () => {
    const { port, proxy } = await startProxy(h);
    proxy.apply('atl', { kind: 'ack-then-lose' }, ['raw-1']);
    const raw = new RawClient(h, port);
    raw.send(connectPacket('raw-1'));
    // A clean start: no session present [MQTT-3.2.2-1].
    expect(await raw.next('connack')).toMatchObject({ returnCode: 0, sessionPresent: false });
    raw.send({ cmd: 'pingreq' });
    expect(await raw.next('pingresp')).toBeDefined();
    raw.send({ cmd: 'subscribe', messageId: 11, subscriptions: [{ topic: 'a/b', qos: 1 }, { topic: 'c', qos: 2 }] });
    expect(await raw.next('suback')).toMatchObject({ messageId: 11, granted: [1, 1] });
    raw.send({ cmd: 'publish', topic: UP('raw-1'), payload: Buffer.from('q2'), qos: 2, messageId: 12, retain: false, dup: false });
    expect(await raw.next('pubrec')).toMatchObject({ messageId: 12 });
    raw.send({ cmd: 'pubrel', messageId: 12 });
    expect(await raw.next('pubcomp')).toMatchObject({ messageId: 12 });
    raw.send({ cmd: 'unsubscribe', messageId: 13, unsubscriptions: ['a/b'] });
    expect(await raw.next('unsuback')).toMatchObject({ messageId: 13 });
    expect(proxy.stats.byFault.get('atl')!.fakeReplies).toEqual({ connack: 1, puback: 0, pubrec: 1, pubcomp: 1, pingresp: 1, suback: 1, unsuback: 1 });
  });

  it('ack-then-lose keeps a live client connected through its keepalive (PINGREQ answered)', async () => {
    const { url, proxy } = await startProxy(h);
    const c = await online(h, url, 'atl-ka', { keepalive: 1 });
    proxy.apply('atl', { kind: 'ack-then-lose' }, ['atl-ka']);
    let closed = false;
    c.on('close', () => (closed = true));
    await sleep(2600); // mqtt.js gives up after 1.5 keepalives without PINGRESP
    expect(closed).toBe(false);
    expect(proxy.stats.byFault.get('atl')!.fakeReplies.pingresp).toBeGreaterThanOrEqual(1);
  });

  it('ack-then-lose healed: the connection closes, the client reconnects, its next publish arrives', async () => {
    const { url, proxy, events } = await startProxy(h);
    const c = await online(h, url, 'atlh-1', { reconnectPeriod: 100 });
    proxy.apply('atl', { kind: 'ack-then-lose' }, ['atlh-1']);
    const lost = marker('lost');
    expect(await publish(c, 'atlh-1', lost)).toBeDefined();
    const closing = closeSeen(c);
    const reconnecting = new Promise<void>((r) => c.once('connect', () => r()));
    proxy.heal('atl');
    await closing;
    await reconnecting;
    const m = marker('after-heal');
    const t0 = performance.now();
    expect(await publish(c, 'atlh-1', m)).toBeDefined();
    expect(await arrival(h, m, t0)).toBeDefined();
    expect(h.arrivals.has(lost)).toBe(false);
    expect(events.some((e) => e.type === 'close' && e.reason === 'heal' && e.deviceId === 'atlh-1')).toBe(true);
  });

  it('refuse: a new connection of the device fails, its existing one is unaffected', async () => {
    const { url, proxy } = await startProxy(h);
    const existing = await online(h, url, 'ref-1');
    proxy.apply('ref', { kind: 'refuse' }, ['ref-1']);
    const fresh = device(h, url, 'ref-1');
    expect(await connected(fresh)).toBe(false);
    const m = marker('ref');
    const t0 = performance.now();
    expect(await publish(existing, 'ref-1', m)).toBeDefined();
    expect(await arrival(h, m, t0)).toBeDefined();
    expect(proxy.stats.refused).toBe(1);
    // Other devices are not refused.
    await online(h, url, 'ref-2');
  });

  it('partition: existing connections close, new ones are refused, until healed', async () => {
    const { url, proxy } = await startProxy(h);
    const c = await online(h, url, 'part-1', { reconnectPeriod: 100 });
    let reconnects = 0;
    c.on('reconnect', () => reconnects++);
    const closing = closeSeen(c);
    proxy.apply('part', { kind: 'partition' }, ['part-1']);
    await closing;
    // It keeps trying (every 100 ms) and is refused each time; a loaded machine may take longer than 500 ms for two tries.
    for (const t0 = Date.now(); reconnects < 2 && Date.now() - t0 < 5000; ) await sleep(50);
    expect(c.connected).toBe(false);
    expect(reconnects).toBeGreaterThanOrEqual(2);
    expect(await connected(device(h, url, 'part-1'), 500)).toBe(false);
    proxy.heal('part');
    expect(await connected(c)).toBe(true);
  });

  it('reset: live connections get a RST, and the client reconnects', async () => {
    const { url, port, proxy } = await startProxy(h);
    const raw = new RawClient(h, port);
    raw.send(connectPacket('rst-raw'));
    expect(await raw.next('connack')).toMatchObject({ returnCode: 0 });
    const c = await online(h, url, 'rst-1', { reconnectPeriod: 100 });
    const closing = closeSeen(c);
    proxy.apply('storm', { kind: 'reset' }, ['rst-1', 'rst-raw']);
    expect(await raw.closedWithin(1000)).toBe(true);
    expect(raw.error?.code).toBe('ECONNRESET');
    await closing;
    expect(await connected(c)).toBe(true); // one-shot: the reconnect goes through
    const m = marker('rst');
    const t0 = performance.now();
    expect(await publish(c, 'rst-1', m)).toBeDefined();
    expect(await arrival(h, m, t0)).toBeDefined();
    expect(proxy.stats.byFault.get('storm')?.resets).toBe(2);
  });

  it('a clean close reaches the broker as DISCONNECT (no will); a reset does not (will published)', async () => {
    const { url, proxy } = await startProxy(h);
    const cleanWill = marker('will-clean');
    const clean = await online(h, url, 'will-1', { will: { topic: UP('will-1'), payload: Buffer.from(cleanWill), qos: 1, retain: false } });
    await new Promise<void>((r) => clean.end(false, {}, () => r()));
    const resetWill = marker('will-reset');
    await online(h, url, 'will-2', { will: { topic: UP('will-2'), payload: Buffer.from(resetWill), qos: 1, retain: false } });
    const t0 = performance.now();
    proxy.apply('storm', { kind: 'reset' }, ['will-2']);
    expect(await arrival(h, resetWill, t0)).toBeDefined();
    expect(h.arrivals.has(cleanWill)).toBe(false);
  });

  it('latency: an uplink arrives no sooner than the delay, the PUBACK no sooner than the round trip', async () => {
    const { url, proxy } = await startProxy(h, realClock(1));
    const c = await online(h, url, 'lat-1');
    proxy.apply('lat', { kind: 'latency', delayMs: 300, jitterMs: 0 }, ['lat-1']);
    const m = marker('lat');
    const t0 = performance.now();
    const ackMs = await publish(c, 'lat-1', m);
    expect(await arrival(h, m, t0)).toBeGreaterThanOrEqual(300);
    expect(ackMs).toBeGreaterThanOrEqual(600);
  });

  it('latency is virtual: 3,000 virtual ms at speed 10 is 300 real ms', async () => {
    const { url, proxy } = await startProxy(h, realClock(10));
    const c = await online(h, url, 'lat-2');
    proxy.apply('lat', { kind: 'latency', delayMs: 3000, jitterMs: 0 }, ['lat-2']);
    const m = marker('lat10');
    const t0 = performance.now();
    c.publish(UP('lat-2'), m, { qos: 1 });
    const took = await arrival(h, m, t0, 2500);
    expect(took).toBeDefined();
    expect(took).toBeGreaterThanOrEqual(300);
  });

  it('loss at rate 1: every segment arrives after the retransmission delay', async () => {
    const { url, proxy } = await startProxy(h, realClock(1));
    const c = await online(h, url, 'loss-1');
    proxy.apply('loss', { kind: 'loss', rate: 1, retransmitMs: 300 }, ['loss-1']);
    const m = marker('loss');
    const t0 = performance.now();
    expect(await publish(c, 'loss-1', m)).toBeGreaterThanOrEqual(600);
    expect(await arrival(h, m, t0)).toBeGreaterThanOrEqual(300);
    expect(proxy.stats.byFault.get('loss')!.retransmits).toBeGreaterThanOrEqual(2);
  });

  it('bandwidth: 40 KB at 40,000 B/s take at least a second', async () => {
    const { url, proxy } = await startProxy(h);
    const c = await online(h, url, 'bw-1');
    proxy.apply('bw', { kind: 'bandwidth', bytesPerS: 40_000 }, ['bw-1']);
    const m = marker('bw');
    const payload = Buffer.concat([Buffer.from(m), Buffer.alloc(40_960 - m.length, 0x20)]);
    const t0 = performance.now();
    c.publish(UP('bw-1'), payload, { qos: 1 });
    const took = await arrival(h, payload.toString(), t0, 5000);
    expect(took).toBeGreaterThanOrEqual((40_960 / 40_000) * 1000);
  });

  it('nat-idle: after the idle time a publish vanishes silently; a new connection works', async () => {
    const { url, proxy, events } = await startProxy(h);
    const c = await online(h, url, 'nat-1');
    proxy.apply('nat', { kind: 'nat-idle', idleMs: 600 }, ['nat-1']);
    const before = marker('nat-before');
    expect(await publish(c, 'nat-1', before)).toBeDefined(); // not idle yet
    await sleep(900);
    const m = marker('nat-after');
    const t0 = performance.now();
    expect(await publish(c, 'nat-1', m, 500)).toBeUndefined();
    expect(await arrival(h, m, t0, 100)).toBeUndefined();
    expect(c.connected).toBe(true); // no FIN, no RST
    expect(events.some((e) => e.type === 'nat-expired' && e.deviceId === 'nat-1')).toBe(true);
    const fresh = await online(h, url, 'nat-1');
    const m2 = marker('nat-fresh');
    const t1 = performance.now();
    expect(await publish(fresh, 'nat-1', m2)).toBeDefined();
    expect(await arrival(h, m2, t1)).toBeDefined();
  });

  it('mtu: small packets pass, a big one vanishes and stalls the connection for small ones too', async () => {
    const { url, proxy, events } = await startProxy(h);
    const c = await online(h, url, 'mtu-1');
    proxy.apply('mtu', { kind: 'mtu', maxBytes: 500 }, ['mtu-1']);
    const small = marker('mtu-small');
    const t0 = performance.now();
    expect(await publish(c, 'mtu-1', small.padEnd(100, '.'))).toBeDefined();
    expect(await arrival(h, small.padEnd(100, '.'), t0)).toBeDefined();
    const big = marker('mtu-big').padEnd(2000, '.');
    expect(await publish(c, 'mtu-1', big, 500)).toBeUndefined();
    const after = marker('mtu-after').padEnd(100, '.');
    expect(await publish(c, 'mtu-1', after, 500)).toBeUndefined();
    expect(h.arrivals.has(big)).toBe(false);
    expect(h.arrivals.has(after)).toBe(false);
    expect(proxy.stats.stalls).toBe(1);
    expect(events.find((e) => e.type === 'stall')).toMatchObject({ deviceId: 'mtu-1', maxBytes: 500 });
  });

  it('closes a connection whose stream is not MQTT, with an event, and keeps serving', async () => {
    const { url, port, proxy, events } = await startProxy(h);
    const notConnect = new RawClient(h, port);
    notConnect.send({ cmd: 'pingreq' });
    expect(await notConnect.closedWithin(1000)).toBe(true);
    const badLength = new RawClient(h, port);
    badLength.socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(await badLength.closedWithin(1000)).toBe(true);
    expect(proxy.stats.malformed).toBe(2);
    expect(events.filter((e) => e.type === 'malformed')).toHaveLength(2);
    await online(h, url, 'after-garbage');
  });

  it('rejects nonsense effects before applying them', async () => {
    const { proxy } = await startProxy(h);
    expect(() => proxy.apply('x', { kind: 'loss', rate: 2, retransmitMs: 1 }, ['d'])).toThrow(/rate/);
    expect(() => proxy.apply('y', { kind: 'bandwidth', bytesPerS: 0 } as FaultEffect, ['d'])).toThrow(/bytesPerS/);
    proxy.apply('z', { kind: 'latency', delayMs: 1, jitterMs: 0 }, ['d']);
    expect(() => proxy.apply('z', { kind: 'latency', delayMs: 2, jitterMs: 0 }, ['d'])).toThrow(/fault z/);
  });
});

describe('OperatorProxy on mosquitto', () => {
  let mosquitto: Mosquitto;
  const h = harness(async () => {
    mosquitto = await startMosquitto();
    return { url: mosquitto.url, close: () => mosquitto.stop() };
  });

  // aedes speaks MQTT 3.1.1 only.
  it('passes MQTT 5 through and finds its uplink payloads', async () => {
    const { url, uplinks } = await startProxy(h);
    const c = await online(h, url, 'v5-1', { protocolVersion: 5 });
    const m = marker('v5');
    const t0 = performance.now();
    expect(await publish(c, 'v5-1', m)).toBeDefined();
    expect(await arrival(h, m, t0)).toBeDefined();
    expect(uplinks).toEqual([{ deviceId: 'v5-1', payload: m }]);
  });

  it('ack-then-lose forges valid MQTT 5 replies: CONNACK, SUBACK, PUBACK', async () => {
    const { url, proxy } = await startProxy(h);
    proxy.apply('atl', { kind: 'ack-then-lose' }, ['v5-atl']);
    // Clean Start = 0, as Vigil's devices resume: the forged CONNACK says the session is present.
    const c = device(h, url, 'v5-atl', { protocolVersion: 5, clean: false });
    const sessionPresent = new Promise<boolean>((r) => c.once('connect', (ack) => r(ack.sessionPresent)));
    expect(await sessionPresent).toBe(true);
    const granted = await new Promise<number[]>((resolve, reject) =>
      c.subscribe('vigil/v1/devices/v5-atl/ack', { qos: 1 }, (err, g) => (err ? reject(err) : resolve((g ?? []).map((x) => x.qos)))),
    );
    expect(granted).toEqual([1]);
    const m = marker('v5-atl');
    const t0 = performance.now();
    expect(await publish(c, 'v5-atl', m)).toBeDefined();
    expect(await arrival(h, m, t0, 300)).toBeUndefined();
  });

  it('black-hole: the publish never reaches mosquitto and is never acknowledged', async () => {
    const { url, proxy } = await startProxy(h);
    const c = await online(h, url, 'mq-bh');
    proxy.apply('bh', { kind: 'black-hole' }, ['mq-bh']);
    const m = marker('mq-bh');
    const t0 = performance.now();
    expect(await publish(c, 'mq-bh', m, 600)).toBeUndefined();
    expect(await arrival(h, m, t0, 200)).toBeUndefined();
  });

  it('ack-then-lose: acknowledged to the device, never seen by mosquitto; after heal it gets through', async () => {
    const { url, proxy } = await startProxy(h);
    const c = await online(h, url, 'mq-atl', { reconnectPeriod: 100 });
    proxy.apply('atl', { kind: 'ack-then-lose' }, ['mq-atl']);
    const m = marker('mq-atl');
    const t0 = performance.now();
    expect(await publish(c, 'mq-atl', m)).toBeDefined();
    expect(await arrival(h, m, t0, 500)).toBeUndefined();
    const reconnected = new Promise<void>((r) => c.once('connect', () => r()));
    proxy.heal('atl');
    await reconnected;
    const m2 = marker('mq-healed');
    const t1 = performance.now();
    expect(await publish(c, 'mq-atl', m2)).toBeDefined();
    expect(await arrival(h, m2, t1)).toBeDefined();
  });
});
