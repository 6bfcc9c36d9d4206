import mqtt, { type MqttClient } from 'mqtt';
import { generate, writeToStream } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ackTopic, encodeAck, upTopic } from '../../protocol/uplink.ts';
import { startMosquitto, type Mosquitto } from '../../test/support/mosquitto.ts';
import { CONNECT, PUBACK, SUBSCRIBE, connack, scriptedBroker, sessionBroker, suback } from '../../test/support/scripted-broker.ts';
import { startEmbeddedBroker, type RunningBroker } from '../broker.ts';
import { ConnackError, SWEEP_MS, leanLink } from './lean-link.ts';
import type { DeviceLink, LinkEvents } from './link.ts';
import { sleep, until } from '../../test/support/until.ts';

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

/** What a link told its device, in order. */
function recorder(): LinkEvents & { log: string[]; acks: number[]; errors: Error[]; ups: number; downs: number } {
  const r = {
    log: [] as string[], acks: [] as number[], errors: [] as Error[], ups: 0, downs: 0,
    onUp: () => { r.ups++; r.log.push('up'); },
    onDown: () => { r.downs++; r.log.push('down'); },
    onAck: (seq: number) => { r.acks.push(seq); r.log.push(`ack ${seq}`); },
    onError: (err: Error) => { r.errors.push(err); },
  };
  return r;
}

function device(endpoint: string | (() => string), id: string, events: LinkEvents, keepaliveS = 60, reconnectMs = 100): DeviceLink {
  const link = leanLink(endpoint, id, events, { reconnectMs, keepaliveS });
  open.push(link);
  return link;
}

async function client(url: string, id: string, clean = true): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: id, clean, reconnectPeriod: 0 });
  open.push({ close: () => c.endAsync(true) });
  return c;
}

const publishAck = async (c: MqttClient, deviceId: string, seq: number): Promise<void> => {
  await c.publishAsync(ackTopic(deviceId), Buffer.from(encodeAck(deviceId, seq)), { qos: 1 });
};

const tcpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

// The same contract on both brokers the harness runs against.
describe.each([
  ['aedes', async () => {
    const b = await startEmbeddedBroker();
    return { url: b.url, close: () => b.close() };
  }],
  ['mosquitto', async () => {
    const m: Mosquitto = await startMosquitto();
    return { url: m.url, close: () => m.stop() };
  }],
])('lean link on %s', (_name, start) => {
  let broker: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    broker = await start();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('is up once its ack topic is subscribed; a QoS 1 publish reaches a subscriber, onSent at PUBACK', async () => {
    const id = `LEAN-${_name}-1`;
    const sub = await client(broker.url, 'sub-1');
    const got: string[] = [];
    sub.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await sub.subscribeAsync(upTopic(id), { qos: 1 });
    const ev = recorder();
    const link = device(broker.url, id, ev);
    await until(() => link.connected);
    expect(ev.log).toEqual(['up']);
    let sent = 0;
    link.publish(new TextEncoder().encode('{"hello":1}'), 1, () => sent++);
    link.publish(new TextEncoder().encode('x'.repeat(300)), 1, () => sent++); // two-byte remaining length
    link.publish(new TextEncoder().encode('q0'), 0, () => sent++);
    await until(() => sent === 3 && got.length === 3);
    // Sorted: a broker orders messages per QoS level only, so QoS 0 may overtake QoS 1 [MQTT-4.6.0].
    expect(got.sort()).toEqual([`${upTopic(id)} {"hello":1}`, `${upTopic(id)} ${'x'.repeat(300)}`, `${upTopic(id)} q0`].sort());
    expect(ev.errors).toEqual([]);
  });

  it('to a host name, which needs a lookup, dials a net.Socket (raw-tcp.ts takes addresses): the same contract', async () => {
    const id = `LEAN-${_name}-name`;
    const byName = broker.url.replace('127.0.0.1', 'localhost');
    expect(byName).not.toBe(broker.url);
    const sub = await client(broker.url, 'sub-name');
    const got: string[] = [];
    sub.on('message', (_topic, payload) => got.push(payload.toString()));
    await sub.subscribeAsync(upTopic(id), { qos: 1 });
    const ev = recorder();
    const link = device(byName, id, ev, 60, 100);
    await until(() => link.connected);
    let sent = 0;
    link.publish(new TextEncoder().encode('by name'), 1, () => sent++);
    await until(() => sent === 1 && got.length === 1);
    const pipeline = await client(broker.url, 'pipeline-name');
    await publishAck(pipeline, id, 7);
    await until(() => ev.acks.length === 1);
    link.reconnect();
    await until(() => ev.ups === 2 && link.connected);
    expect(ev.log).toEqual(['up', 'ack 7', 'down', 'up']);
    expect(got).toEqual(['by name']);
    expect(ev.errors).toEqual([]);
  });

  it('with VIGIL_NET_SOCKETS=1, dials an address with a net.Socket too: the same contract', async () => {
    const id = `LEAN-${_name}-net`;
    const ev = recorder();
    process.env.VIGIL_NET_SOCKETS = '1';
    let link: DeviceLink;
    try {
      link = device(broker.url, id, ev, 60, 100); // dials now, in the constructor
    } finally {
      delete process.env.VIGIL_NET_SOCKETS;
    }
    await until(() => link.connected);
    const pipeline = await client(broker.url, 'pipeline-net');
    await publishAck(pipeline, id, 9);
    await until(() => ev.acks.length === 1);
    expect(ev.log).toEqual(['up', 'ack 9']);
    expect(ev.errors).toEqual([]);
  });

  it('turns an ack message on its ack topic into onAck(seq), and ignores nothing else', async () => {
    const id = `LEAN-${_name}-2`;
    const ev = recorder();
    const link = device(broker.url, id, ev);
    await until(() => link.connected);
    const pipeline = await client(broker.url, 'pipeline-2');
    await publishAck(pipeline, id, 41);
    await publishAck(pipeline, id, 42);
    await pipeline.publishAsync(ackTopic(id), 'not json', { qos: 0 });
    // Read in place only when exactly the pipeline's shape; anything else goes through decodeAck.
    await pipeline.publishAsync(ackTopic(id), `{"v":1,"device":"${id}","ack":43,"extra":true}`, { qos: 0 });
    await pipeline.publishAsync(ackTopic(id), `{"v":1,"device":"${id}","ack":4x}`, { qos: 0 });
    await pipeline.publishAsync(ackTopic(id), `{"v":1,"device":"${id}","ack":-1}`, { qos: 0 });
    await pipeline.publishAsync(ackTopic(id), `{"v":1,"device":"${id}","ack":1234567890123456789}`, { qos: 0 });
    await publishAck(pipeline, id, 0);
    await until(() => ev.acks.length === 4 && ev.errors.length === 4);
    expect(ev.acks).toEqual([41, 42, 43, 0]);
    expect(ev.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/not JSON/), expect.stringMatching(/not JSON/), expect.stringMatching(/ack must be an integer/), expect.stringMatching(/ack must be an integer/),
    ]);
  });

  it('reconnect() drops the connection and dials again: the first session is clean, later ones persist', async () => {
    const id = `LEAN-${_name}-3`;
    const ev = recorder();
    const link = device(broker.url, id, ev, 60, 400);
    await until(() => link.connected);
    const pipeline = await client(broker.url, 'pipeline-3');
    // The first session is clean: what is published while the device is away from it is lost.
    link.reconnect();
    await until(() => ev.downs === 1);
    expect(link.connected).toBe(false);
    await publishAck(pipeline, id, 6);
    await until(() => ev.ups === 2 && link.connected);
    // The second one persists (clean = false): the broker keeps what is queued while it is away.
    link.reconnect();
    await until(() => ev.downs === 2);
    await publishAck(pipeline, id, 7);
    await until(() => ev.ups === 3 && ev.acks.length === 1);
    await sleep(100);
    expect(ev.acks).toEqual([7]);
    expect(ev.log.slice(0, 4)).toEqual(['up', 'down', 'up', 'down']);
    expect(ev.log.slice(4).sort()).toEqual(['ack 7', 'up']);
  });

  it('close() leaves no socket and does not dial again', async () => {
    const before = tcpSockets();
    const ev = recorder();
    const link = leanLink(broker.url, `LEAN-${_name}-4`, ev, { reconnectMs: 50, keepaliveS: 60 });
    await until(() => link.connected);
    expect(tcpSockets()).toBeGreaterThan(before);
    await link.close();
    expect(link.connected).toBe(false);
    await until(() => tcpSockets() === before);
    await sleep(200);
    expect(tcpSockets()).toBe(before);
    expect(ev.ups).toBe(1);
  });
});

describe('the lean link module', () => {
  it("turns off mqtt-packet's cache of 65,536 packet-id Buffers (6.9 MB of heap per fleet process)", () => {
    expect(writeToStream.cacheNumbers).toBe(false);
    // Still encodes packet ids: a SUBSCRIBE's id is its bytes 2-3.
    const sub = generate({ cmd: 'subscribe', messageId: 258, subscriptions: [{ topic: 'a', qos: 1 }] });
    expect([sub[2], sub[3]]).toEqual([1, 2]);
  });
});

describe('lean link, broker faults', () => {
  it('after a broker restart: onDown, dials again, subscribes again, onUp; acks flow on the new session', async () => {
    const b: RunningBroker = await startEmbeddedBroker();
    open.push(b);
    const ev = recorder();
    const id = 'LEAN-restart';
    const link = device(b.url, id, ev);
    await until(() => link.connected);
    await b.kill();
    await until(() => ev.downs === 1);
    await sleep(250); // a dial or two refused meanwhile
    expect(ev.errors.some((e) => (e as NodeJS.ErrnoException).code === 'ECONNREFUSED')).toBe(true);
    await b.restart();
    await until(() => ev.ups === 2 && link.connected);
    // aedes lost every session in the kill: the subscription is the link's new one.
    const pipeline = await client(b.url, 'pipeline-restart');
    await publishAck(pipeline, id, 3);
    await until(() => ev.acks.length === 1);
    expect(ev.log).toEqual(['up', 'down', 'up', 'ack 3']);
  });

  it('asks the endpoint function before every dial: an endpoint move is followed', async () => {
    const a = await startEmbeddedBroker();
    const b = await startEmbeddedBroker();
    open.push(a, b);
    let target = a.url;
    let asked = 0;
    const ev = recorder();
    const link = device(() => (asked++, target), 'LEAN-move', ev);
    await until(() => link.connected);
    expect(asked).toBe(1);
    target = b.url;
    link.reconnect();
    await until(() => ev.ups === 2 && link.connected);
    expect(asked).toBe(2);
    // The second session is on broker B: closing A does not touch it.
    await a.close();
    open.splice(open.indexOf(a), 1);
    await sleep(300);
    expect(link.connected).toBe(true);
    expect(ev.ups).toBe(2);
  });
});

describe('lean link, scripted broker', () => {
  it('a refused CONNECT (non-zero CONNACK return code) is an error, and the link dials again', async () => {
    let refusals = 1;
    const broker = await scriptedBroker((s, type) => {
      if (type === CONNECT) s.write(connack(refusals-- > 0 ? 5 : 0));
      if (type === SUBSCRIBE) s.write(suback());
    });
    open.push(broker);
    const ev = recorder();
    const link = device(broker.url, 'LEAN-refused', ev);
    await until(() => link.connected);
    expect(broker.dials()).toBe(2);
    expect(ev.errors).toHaveLength(1);
    expect(ev.errors[0]).toBeInstanceOf(ConnackError);
    expect((ev.errors[0] as ConnackError).returnCode).toBe(5);
  });

  it('subscribes again only when the broker kept no session: a resumed one keeps its subscriptions [MQTT-3.2.2-2]', async () => {
    // Dial 1 is clean, so a Session Present there is not believed; dial 2 resumes; at dial 3 the broker has lost the session.
    const broker = await sessionBroker((dial) => dial !== 3);
    open.push(broker);
    const ev = recorder();
    const link = device(broker.url, 'LEAN-session', ev);
    for (let dial = 1; dial <= 3; dial++) {
      await until(() => ev.ups === dial && link.connected);
      if (dial < 3) link.reconnect();
    }
    expect(broker.types).toEqual([[CONNECT, SUBSCRIBE], [CONNECT], [CONNECT, SUBSCRIBE]]);
    expect(ev.errors).toEqual([]);
  });

  it("does not read its own stalled event loop as a dead broker: the keepalive verdict comes after the turn's reads", async () => {
    let pongs = 0;
    const broker = await scriptedBroker((s, type) => {
      if (type === CONNECT) s.write(connack());
      if (type === SUBSCRIBE) s.write(suback());
      if (type === 12) {
        s.write(Buffer.from([0xd0, 0])); // PINGRESP at once
        // Then, once, the process stalls for 2.5 s (a long turn, a GC: the broker here shares the
        // link's loop). The answer is in the link's socket, unread until the loop reads again; a
        // keepalive sweep that ran before that read would call the broker silent.
        if (++pongs === 2) {
          const end = Date.now() + 2500;
          while (Date.now() < end);
        }
      }
    });
    open.push(broker);
    const ev = recorder();
    const link = device(broker.url, 'LEAN-stall', ev, 1, 5000); // keepalive 1 s: a PINGREQ at every sweep
    await until(() => link.connected);
    await until(() => pongs >= 3, 8000);
    expect(ev.errors.map((e) => e.message)).toEqual([]);
    expect(ev.downs).toBe(0);
  });

  /** Delivers one ack per packet id in `ids` (seq 1, 2, …) at QoS 1 once subscribed; logs each chunk's packet types and the PUBACKs' ids. */
  async function ackingBroker(id: string, ids = [7]): Promise<{ url: string; chunks: number[][]; pubacks: number[]; close(): Promise<void> }> {
    const chunks: number[][] = [];
    const pubacks: number[] = [];
    let chunk: number[] | undefined;
    const broker = await scriptedBroker((s, type, _n, packet) => {
      if (chunk === undefined) {
        chunks.push((chunk = []));
        queueMicrotask(() => (chunk = undefined)); // after the packets of this chunk, handed over in one go
      }
      chunk.push(type);
      if (type === PUBACK) pubacks.push(packet.readUInt16BE(2));
      if (type === CONNECT) s.write(connack());
      if (type === SUBSCRIBE) {
        s.write(suback());
        ids.forEach((messageId, i) => {
          s.write(generate({ cmd: 'publish', topic: ackTopic(id), payload: Buffer.from(encodeAck(id, i + 1)), qos: 1, messageId, dup: false, retain: false }));
        });
      }
    });
    open.push(broker);
    return { ...broker, chunks, pubacks };
  }

  it('carries the PUBACK of an ack with its next publish, not in a write of its own', async () => {
    const broker = await ackingBroker('LEAN-carry');
    const ev = recorder();
    const link = device(broker.url, 'LEAN-carry', ev);
    await until(() => ev.acks.length === 1);
    // A PSE unit reports every 180 virtual s, 5.6 s real at speed 32: two sweeps go by before it
    // publishes again, and a PUBACK that waited only one sweep went out alone.
    await sleep(2 * SWEEP_MS + 300);
    expect(broker.chunks.flat()).not.toContain(4);
    link.publish('{}', 1);
    await until(() => broker.chunks.flat().includes(3));
    expect(broker.chunks.at(-1)).toEqual([4, 3]);
  });

  it('carries every PUBACK owed, with its packet id, in the order the acks came [MQTT-4.6.0-2]', async () => {
    const broker = await ackingBroker('LEAN-many', [7, 300, 65_535]);
    const ev = recorder();
    const link = device(broker.url, 'LEAN-many', ev);
    await until(() => ev.acks.length === 3);
    link.publish('{}', 1);
    await until(() => broker.chunks.flat().includes(3));
    expect(broker.chunks.at(-1)).toEqual([4, 4, 4, 3]);
    expect(broker.pubacks).toEqual([7, 300, 65_535]);
  });

  it('sends an owed PUBACK alone once it waited pubackHoldMs for a packet to ride with', async () => {
    const broker = await ackingBroker('LEAN-hold');
    const ev = recorder();
    const link = leanLink(broker.url, 'LEAN-hold', ev, { reconnectMs: 5000, keepaliveS: 60, pubackHoldMs: 200 });
    open.push(link);
    await until(() => ev.acks.length === 1);
    await until(() => broker.chunks.flat().includes(4), 2 * SWEEP_MS + 1000);
    expect(broker.chunks.at(-1)).toEqual([4]);
  });

  it('pings when idle, and drops a connection whose PINGREQ goes unanswered (keepalive)', async () => {
    let pings = 0;
    const broker = await scriptedBroker((s, type) => {
      if (type === CONNECT) s.write(connack());
      if (type === SUBSCRIBE) s.write(suback());
      if (type === 12) pings++; // never answered
    });
    open.push(broker);
    const ev = recorder();
    const link = device(broker.url, 'LEAN-silent', ev, 1, 5000);
    await until(() => link.connected);
    await until(() => ev.downs === 1, 5000);
    expect(pings).toBe(1);
    expect(ev.errors.map((e) => e.message)).toEqual(['Keepalive timeout']);
  });
});
