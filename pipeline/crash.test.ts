/**
 * DESIGN.md "Faults": pipeline kill and restart. The pipeline runs as its own process and is killed
 * with SIGKILL while devices stream; after a restart on the same store file, every record it had
 * acknowledged is still stored (ack after durable storage), and alarms are still on the feed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startAedes, type RunningBroker } from '../test/support/aedes.ts';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeFeedMessage, feedUrl, type FeedAlarm } from '../protocol/feed.ts';
import type { IngestSummary, ProvisioningInput } from '../protocol/provisioning.ts';
import { ackTopic, decodeAck, encodeBatch, upTopic, type UplinkRecord } from '../protocol/uplink.ts';

const TOKEN = 'crash-token';
const DEVICES = 20;
const ZONE: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];

let broker: RunningBroker;
let brokerUrl: string;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  broker = await startAedes();
  brokerUrl = broker.url;
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `vigil pipeline` as a child process (as a run does); resolves with its URL. */
async function spawnPipeline(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../bin/vigil.js'), 'pipeline',
    '--broker', brokerUrl, '--port', '0', '--db', join(dir, 'p.db')],
  { env: { ...process.env, VIGIL_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      const m = /serving (http:\/\/\S+)/.exec(l);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`pipeline exited with ${String(code)}: ${stderr}`)));
  });
  return { child, url };
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function readFeed(base: string): Promise<FeedAlarm[]> {
  const ws = new WebSocket(feedUrl(base, 0), { headers: auth });
  const alarms: FeedAlarm[] = [];
  let head = -1;
  ws.on('message', (d: Buffer) => {
    const m = decodeFeedMessage(d.toString('utf8'));
    if (m.type === 'hello') head = m.head;
    if (m.type === 'alarm') alarms.push(m);
  });
  const end = Date.now() + 10_000;
  while (head < 0 || alarms.length < head) {
    if (Date.now() > end) throw new Error('feed did not catch up');
    await new Promise((r) => setTimeout(r, 20));
  }
  ws.terminate();
  return alarms;
}

it('kill -9 loses no acknowledged record and no alarm', async () => {
  let p = await spawnPipeline();
  const now = Date.now();
  const prov: ProvisioningInput = {
    runId: 'crash-run',
    clock: { startVirtual: now, startReal: now, speed: 1 },
    offlineTimeoutMs: 3_600_000,
    devices: Array.from({ length: DEVICES }, (_, i) => ({ deviceId: `c${i}`, type: 'psem' as const })),
    zones: Array.from({ length: DEVICES }, (_, i) => ({ zoneId: `z${i}`, kind: 'exclusion' as const, deviceId: `c${i}`, polygon: ZONE })),
  };
  const res = await fetch(new URL('/api/v1/provision', p.url), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(prov) });
  expect(res.status).toBe(200);

  // Devices stream batches of 10; every 10th record is inside the zone, the others outside, so each
  // batch raises one alarm per device.
  const acked = new Map<string, number>();
  const clients: MqttClient[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const id = `c${i}`;
    const c = await connectAsync(brokerUrl, { clientId: id, clean: false, protocolVersion: 4 });
    c.on('message', (_t, payload) => {
      const a = decodeAck(payload);
      acked.set(id, Math.max(acked.get(id) ?? 0, a.ack));
    });
    await c.subscribeAsync(ackTopic(id), { qos: 1 });
    clients.push(c);
  }
  let seq = 0;
  let streaming = true;
  const stream = (async () => {
    while (streaming) {
      const from = seq + 1;
      seq += 10;
      await Promise.all(clients.map((c, i) => {
        const records: UplinkRecord[] = [];
        for (let s = from; s <= seq; s++) {
          records.push({ device: `c${i}`, seq: s, time: now + s, battery: 50, type: 'position', accuracy: 3, lat: s % 10 === 0 ? 48.05 : 47, lon: 2.05 });
        }
        return c.publishAsync(upTopic(`c${i}`), Buffer.from(encodeBatch(records)), { qos: 1 });
      }));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();

  // Kill it mid-stream, once a good number of records are acked.
  const end = Date.now() + 20_000;
  while ([...acked.values()].reduce((a, b) => a + b, 0) < DEVICES * 200) {
    if (Date.now() > end) throw new Error('acks did not arrive');
    await new Promise((r) => setTimeout(r, 10));
  }
  p.child.kill('SIGKILL');
  await new Promise((r) => p.child.once('exit', r));
  streaming = false;
  await stream;
  const ackedAtKill = new Map(acked);

  p = await spawnPipeline();
  // The broker redelivers what it queued for the pipeline's session; compare once that has settled.
  const url = p.url;
  const read = async () => (await (await fetch(new URL('/api/v1/ingest/summary', url), { headers: auth })).json()) as IngestSummary;
  let summary = await read();
  for (let last = ''; JSON.stringify(summary) !== last;) {
    last = JSON.stringify(summary);
    await new Promise((r) => setTimeout(r, 300));
    summary = await read();
  }
  expect(summary.runId).toBe('crash-run');
  for (const [id, a] of ackedAtKill) {
    expect(summary.devices[id]?.contiguousSeq, id).toBeGreaterThanOrEqual(a);
  }
  // Every evaluated entry (seq 10, 20, … up to the contiguous prefix) has exactly one alarm.
  const alarms = await readFeed(p.url);
  for (const [id, d] of Object.entries(summary.devices)) {
    const seqs = alarms.filter((x) => x.deviceId === id).map((x) => x.seq);
    expect(seqs, id).toEqual(Array.from({ length: Math.floor(d.contiguousSeq / 10) }, (_, k) => (k + 1) * 10));
  }
  expect(alarms.map((x) => x.cursor)).toEqual(alarms.map((_, i) => i + 1));

  for (const c of clients) await c.endAsync();
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.once('exit', r));
});
