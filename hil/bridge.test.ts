import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { ackTopic, decodeBatch, encodeAck, upTopic, UPLINK_SUBSCRIPTION, type UplinkRecord } from '../protocol/uplink.ts';
import { startEmbeddedBroker, type RunningBroker } from '../sim/broker.ts';
import { FakeHilSession } from '../test/support/fake-hil-session.ts';
import { HilBridge } from './bridge.ts';
import { until } from '../test/support/until.ts';

const ID = 'HIL-PSEM-1';
const T0 = Date.parse('2021-10-25T14:00:00+02:00');
const rec = (seq: number, extra: Partial<UplinkRecord> = {}): UplinkRecord => ({ device: ID, seq, time: T0 + seq * 15_000, battery: 90, type: 'heartbeat', ...extra } as UplinkRecord);

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A broker, a subscriber in the pipeline's place (it sees what reaches the broker), and a bridge over a fake device. */
async function setup(o: { mode?: 'gateway' | 'direct'; resendMs?: number } = {}) {
  const broker: RunningBroker = await startEmbeddedBroker();
  closers.push(() => broker.close());
  const pipeline = mqtt.connect(broker.url, { clientId: 'pipeline-test' });
  closers.push(() => new Promise<void>((r) => pipeline.end(true, {}, () => r())));
  const published: { topic: string; seqs: number[] }[] = [];
  // aedes announces each client's id on $SYS/<broker>/new/clients: how the test sees who connected.
  const clientIds: string[] = [];
  pipeline.on('message', (topic, payload) => {
    if (topic.endsWith('/new/clients')) clientIds.push(payload.toString());
    else published.push({ topic, seqs: decodeBatch(payload).records.map((r) => r.seq) });
  });
  await new Promise<void>((resolve, reject) => pipeline.on('connect', () => pipeline.subscribe([UPLINK_SUBSCRIPTION, '$SYS/+/new/clients'], { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
  const session = new FakeHilSession();
  const oracle: UplinkRecord[] = [];
  // What the bridge tells the run's records per minute, as it happens.
  const counted = { fresh: 0, again: 0, stored: 0 };
  const bridge = new HilBridge({
    session, deviceId: ID, mode: o.mode ?? 'gateway', endpoint: () => broker.url, onRecord: (r) => oracle.push(r), keepaliveS: 60, log: () => undefined,
    onPublished: (fresh, again) => {
      counted.fresh += fresh;
      counted.again += again;
    },
    onStored: (n) => void (counted.stored += n),
    ...(o.resendMs !== undefined ? { resendMs: o.resendMs } : {}),
  });
  bridge.start();
  closers.push(() => bridge.close());
  const ack = (seq: number): void => void pipeline.publish(ackTopic(ID), Buffer.from(encodeAck(ID, seq)), { qos: 1 });
  return { broker, clientIds, published, session, oracle, bridge, ack, counted };
}

describe('the gateway bridge', () => {
  it('publishes the device\'s records to the broker as that device, and hands each to the oracle', async () => {
    const { clientIds, published, session, oracle, bridge } = await setup();
    await until(() => clientIds.includes(ID));
    session.send(rec(1));
    session.send(rec(2, { type: 'event', event: 'strap_tamper' } as Partial<UplinkRecord>));
    await until(() => published.flatMap((p) => p.seqs).length === 2);
    expect(new Set(published.map((p) => p.topic))).toEqual(new Set([upTopic(ID)]));
    expect(oracle.map((r) => r.seq)).toEqual([1, 2]);
    expect(bridge.unacked).toBe(2);
  });

  it('relays the pipeline\'s application ack to the device, and forgets what it covers', async () => {
    const { clientIds, published, session, bridge, ack } = await setup();
    await until(() => clientIds.includes(ID));
    for (const s of [1, 2, 3]) session.send(rec(s));
    await until(() => published.length > 0);
    ack(2);
    await until(() => session.sent('ack').length > 0);
    expect(session.sent('ack')).toEqual([{ cmd: 'ack', seq: 2 }]);
    expect(bridge.unacked).toBe(1);
    expect(bridge.recordState()).toMatchObject({ lastSeq: 3, ackedSeq: 2, pendingSeqs: [3] });
  });

  it('dedupes the device\'s resends by seq: once to the oracle and the broker; an acked resend gets the ack again', async () => {
    const { clientIds, published, session, oracle, bridge, ack, counted } = await setup();
    await until(() => clientIds.includes(ID));
    for (const s of [1, 2, 3]) session.send(rec(s));
    await until(() => published.flatMap((p) => p.seqs).length === 3);
    ack(1);
    await until(() => session.sent('ack').length === 1);
    // The device was away and resends what it holds: 1 (its ack was lost), 2 and 3.
    session.setState('down');
    session.setState('up');
    for (const s of [1, 2, 3]) session.send(rec(s));
    session.send(rec(4));
    await until(() => published.flatMap((p) => p.seqs).includes(4));
    await new Promise((r) => setTimeout(r, 100));
    expect(oracle.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(published.flatMap((p) => p.seqs)).toEqual([1, 2, 3, 4]);
    expect(bridge.stats).toMatchObject({ records: 4, deviceResends: 3, recordsSent: 4, recordsResent: 0, recordsStored: 1 });
    expect(counted).toEqual({ fresh: 4, again: 0, stored: 1 });
    expect(session.sent('ack').every((a) => a.seq === 1)).toBe(true);
    expect(session.sent('ack').length).toBeGreaterThanOrEqual(2);
  });

  it('publishes again what the pipeline has not acknowledged in time', async () => {
    const { clientIds, published, session, bridge, counted } = await setup({ resendMs: 200 });
    await until(() => clientIds.includes(ID));
    session.send(rec(1));
    await until(() => published.filter((p) => p.seqs.includes(1)).length >= 2, 3000);
    expect(bridge.stats.republishes).toBeGreaterThanOrEqual(1);
    // Counted as one record sent, and resent as often as it went out again (the broker may not have passed the latest on yet).
    expect(counted.fresh).toBe(1);
    expect(counted.again).toBeGreaterThanOrEqual(published.filter((p) => p.seqs.includes(1)).length - 1);
    expect(counted.again).toBe(bridge.stats.recordsResent);
  });

  it('counts records of another device id and drops them', async () => {
    const { session, oracle, bridge } = await setup();
    session.send({ ...rec(1), device: 'PSEM-00001' });
    expect(oracle).toEqual([]);
    expect(bridge.stats.foreign).toBe(1);
  });

  it('reports what the device made by the end of the run, not after it', async () => {
    const { session, bridge } = await setup({ mode: 'direct' });
    for (const s of [1, 2, 3, 4]) session.send(rec(s));
    expect(bridge.recordState(T0 + 2 * 15_000)).toEqual({ deviceId: ID, lastSeq: 2, ackedSeq: 0, pendingSeqs: [], evicted: 0 });
  });
});

describe('the direct mode', () => {
  it('reads the device\'s records for the oracle and publishes nothing', async () => {
    const { clientIds, published, session, oracle } = await setup({ mode: 'direct' });
    session.send(rec(1));
    session.send(rec(1));
    await new Promise((r) => setTimeout(r, 200));
    expect(oracle.map((r) => r.seq)).toEqual([1]);
    expect(published).toEqual([]);
    expect(clientIds).not.toContain(ID);
  });
});
