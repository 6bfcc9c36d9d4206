/**
 * The pipeline end to end with real parts: an embedded aedes broker, mqtt.js devices, a ws feed
 * client, HTTP, and a store file reopened by a second pipeline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAedes, type RunningBroker } from '../test/support/aedes.ts';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeFeedMessage, feedUrl, type FeedMessage } from '../protocol/feed.ts';
import { HEALTH_PATH, PROVISION_PATH, SUMMARY_PATH, type ProvisioningInput } from '../protocol/provisioning.ts';
import { ackTopic, decodeAck, encodeBatch, upTopic, type UplinkRecord } from '../protocol/uplink.ts';
import { startPipeline, type RunningPipeline } from './server.ts';

const TOKEN = 'test-token';
const ZONE: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];
const IN = { lat: 48.05, lon: 2.05 };
const OUT = { lat: 47.5, lon: 2.05 };
const now = Date.now();
const pos = (device: string, seq: number, at: { lat: number; lon: number }): UplinkRecord =>
  ({ device, seq, time: now + seq, battery: 80, type: 'position', accuracy: 4, ...at });

async function waitFor<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A device: its own MQTT connection (client id = device id), collecting acks. */
async function device(brokerUrl: string, id: string) {
  const client: MqttClient = await connectAsync(brokerUrl, { clientId: id, protocolVersion: 4, clean: false, reconnectPeriod: 200 });
  const acks: number[] = [];
  client.on('message', (_t, payload) => acks.push(decodeAck(payload).ack));
  await client.subscribeAsync(ackTopic(id), { qos: 1 });
  return {
    client,
    acks,
    send: (...records: UplinkRecord[]) => client.publishAsync(upTopic(id), Buffer.from(encodeBatch(records)), { qos: 1 }),
    lastAck: () => acks.at(-1),
  };
}

/** A feed connection collecting every message. */
async function feed(base: string, after: number, token = TOKEN) {
  const ws = new WebSocket(feedUrl(base, after), { headers: { authorization: `Bearer ${token}` } });
  const messages: FeedMessage[] = [];
  ws.on('message', (data: Buffer) => messages.push(decodeFeedMessage(data.toString('utf8'))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const alarms = () => messages.flatMap((m) => (m.type === 'alarm' ? [m] : []));
  return { ws, messages, alarms };
}

async function api(base: string, path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(new URL(path, base), {
    method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('pipeline with a broker', () => {
  let broker: RunningBroker;
  let brokerUrl: string;
  let dir: string;
  let pipeline: RunningPipeline | undefined;
  const logs: string[] = [];
  const closers: (() => Promise<unknown> | void)[] = [];

  const provisioning = {
    runId: 'run-1',
    clock: { startVirtual: now, startReal: now, speed: 1 },
    offlineTimeoutMs: 3_600_000,
    devices: [{ deviceId: 'd1', type: 'psem' }, { deviceId: 'd2', type: 'pse', home: { lat: 48.2, lon: 2.3 } }],
    zones: [{ zoneId: 'z1', kind: 'exclusion', deviceId: 'd1', polygon: ZONE }],
  } satisfies ProvisioningInput;

  const start = () => startPipeline({ brokerUrl, port: 0, dbFile: join(dir, 'pipeline.db'), token: TOKEN, log: (l) => logs.push(l) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-pipeline-'));
    broker = await startAedes();
    brokerUrl = broker.url;
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await pipeline?.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests, acks, raises, feeds, resumes, summarises, and survives a restart', async () => {
    pipeline = await start();
    const base = pipeline.url;

    expect(await api(base, HEALTH_PATH, { token: null })).toEqual({
      status: 200, body: { ok: true, server: 'vigil-reference-pipeline', version: '0.1.0', runId: null },
    });
    expect((await api(base, PROVISION_PATH, { method: 'POST', body: provisioning, token: null })).status).toBe(401);
    expect((await api(base, PROVISION_PATH, { method: 'POST', body: provisioning, token: 'wrong' })).status).toBe(401);
    const bad = { ...provisioning, devices: [{ deviceId: 'bad id!', type: 'psem' }] };
    const badRes = await api(base, PROVISION_PATH, { method: 'POST', body: bad });
    expect(badRes.status).toBe(400);
    expect(badRes.body.error).toMatch(/^devices\.0\.deviceId: /);
    const orphan = { ...provisioning, zones: [{ ...provisioning.zones[0], deviceId: 'd9' }] };
    const orphanProblem = 'zones.0.deviceId: "d9" is not a provisioned device';
    expect((await api(base, PROVISION_PATH, { method: 'POST', body: orphan })).body).toEqual({ error: orphanProblem, problems: [orphanProblem] });
    expect(await api(base, PROVISION_PATH, { method: 'POST', body: provisioning })).toEqual({ status: 200, body: { ok: true, feedCursor: 0 } });
    expect((await api(base, '/api/v1/nope')).status).toBe(404);

    const d1 = await device(brokerUrl, 'd1');
    const d2 = await device(brokerUrl, 'd2');
    closers.push(() => d1.client.endAsync(), () => d2.client.endAsync());

    // d1 enters z1 at seq 2; d2 has a gap at 2.
    await d1.send(pos('d1', 1, OUT), pos('d1', 2, IN));
    await d2.send(pos('d2', 1, IN), pos('d2', 3, IN));
    await waitFor('ack 2 for d1', () => (d1.lastAck() === 2 ? true : undefined));
    await waitFor('ack 1 for d2', () => (d2.lastAck() === 1 ? true : undefined));
    // A resend is re-acked (the device may have lost the ack).
    const before = d1.acks.length;
    await d1.send(pos('d1', 2, IN));
    await waitFor('re-ack', () => (d1.acks.length > before ? true : undefined));
    expect(d1.lastAck()).toBe(2);

    // Garbage and strangers are counted, logged, and do not stop the pipeline.
    await d1.client.publishAsync(upTopic('d1'), 'not json', { qos: 1 });
    await d1.client.publishAsync(upTopic('d7'), Buffer.from(encodeBatch([pos('d7', 1, IN)])), { qos: 1 });
    await waitFor('rejections counted', () => {
      const s = pipeline?.stats();
      return s && s.invalid >= 1 && s.unknownDevice >= 1 ? true : undefined;
    });
    expect(logs.some((l) => l.includes('d1') && l.includes('not JSON'))).toBe(true);
    expect(logs.some((l) => l.includes('d7') && l.includes('not provisioned'))).toBe(true);

    // The feed: hello, then the stored alarm, then a live one.
    const f = await feed(base, 0);
    closers.push(() => f.ws.terminate());
    await waitFor('first alarm', () => (f.alarms().length === 1 ? true : undefined));
    expect(f.messages[0]).toEqual({ type: 'hello', head: 1, server: 'vigil-reference-pipeline' });
    const first = f.alarms()[0];
    expect(first).toMatchObject({ type: 'alarm', cursor: 1, deviceId: 'd1', kind: 'exclusion_zone_entry', seq: 2, deviceTime: now + 2, zoneId: 'z1' });
    expect(first?.raisedAt).toBeGreaterThanOrEqual(now);

    await d1.send(pos('d1', 3, OUT), pos('d1', 4, IN));
    await waitFor('live alarm', () => (f.alarms().length === 2 ? true : undefined));
    expect(f.alarms().map((a) => [a.cursor, a.seq])).toEqual([[1, 2], [2, 4]]);
    await waitFor('ack 4 for d1', () => (d1.lastAck() === 4 ? true : undefined));

    // Resume after cursor 1: only what follows, same ids.
    const r = await feed(base, 1);
    closers.push(() => r.ws.terminate());
    await waitFor('resumed alarm', () => (r.alarms().length === 1 ? true : undefined));
    expect(r.messages[0]).toMatchObject({ type: 'hello', head: 2 });
    expect(r.alarms()[0]).toEqual(f.alarms()[1]);
    r.ws.terminate();

    // Wrong or missing token on the feed: 401.
    await expect(feed(base, 0, 'wrong')).rejects.toThrow(/401/);

    const summary = await api(base, SUMMARY_PATH);
    const expected = {
      runId: 'run-1',
      devices: { d1: { contiguousSeq: 4, maxSeq: 4, stored: 4, gaps: [] }, d2: { contiguousSeq: 1, maxSeq: 3, stored: 2, gaps: [[2, 2]] } },
    };
    expect(summary).toEqual({ status: 200, body: expected });
    expect((await api(base, SUMMARY_PATH, { token: 'wrong' })).status).toBe(401);

    // Restart on the same file. While the pipeline is down the broker queues d2's gap fill for its
    // persistent session; after the restart it arrives, fills the gap and evaluates 2 and 3.
    const feedClosed = new Promise((resolve) => f.ws.once('close', resolve));
    await pipeline.close();
    pipeline = undefined;
    await feedClosed;
    await d2.send(pos('d2', 2, OUT));

    pipeline = await start();
    const base2 = pipeline.url;
    expect((await api(base2, HEALTH_PATH, { token: null })).body.runId).toBe('run-1');
    await waitFor('ack 3 for d2 after restart', () => (d2.lastAck() === 3 ? true : undefined));
    const f2 = await feed(base2, 0);
    closers.push(() => f2.ws.terminate());
    // d2 has no zone: no alarm; the old ones are still there, same ids and cursors.
    await waitFor('replayed alarms', () => (f2.alarms().length === 2 ? true : undefined));
    expect(f2.alarms()).toEqual(f.alarms());
    expect((await api(base2, SUMMARY_PATH)).body).toEqual({
      ...expected, devices: { ...expected.devices, d2: { contiguousSeq: 3, maxSeq: 3, stored: 3, gaps: [] } },
    });
    // Zone state survived: d1 was inside at seq 4, so inside again at 5 raises nothing; 6 out, 7 in raises.
    await d1.send(pos('d1', 5, IN), pos('d1', 6, OUT), pos('d1', 7, IN));
    await waitFor('alarm after restart', () => (f2.alarms().length === 3 ? true : undefined));
    expect(f2.alarms()[2]).toMatchObject({ cursor: 3, seq: 7, zoneId: 'z1' });
  });
});
