import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeFeedMessage, feedUrl, type FeedMessage } from '../protocol/feed.ts';
import { Feed } from './feed.ts';
import { Store } from './store.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(highWaterBytes?: number) {
  const store = new Store(':memory:');
  const server = http.createServer((_req, res) => res.end());
  const feed = new Feed({ server, store, token: 'tok', serverName: 'test', now: () => 42, log: () => {}, highWaterBytes });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => store.close(), () => new Promise((r) => server.close(r)), () => feed.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let seq = 0;
  const raise = (n: number) => {
    store.transaction(() => {
      for (let i = 0; i < n; i++) {
        seq++;
        store.insertAlarm({ epoch: 1, deviceId: 'd1', kind: 'exclusion_zone_entry', seq, deviceTime: seq, raisedAt: seq + 1, zoneId: seq % 2 ? 'z' : null, pairId: seq % 3 === 0 ? 'p' : null });
      }
    });
    feed.notify();
  };
  return { store, feed, base, raise };
}

function connect(base: string, after: number, headers: Record<string, string> = { authorization: 'Bearer tok' }) {
  const ws = new WebSocket(feedUrl(base, after), { headers });
  cleanup.push(() => ws.terminate());
  const messages: FeedMessage[] = [];
  ws.on('message', (d: Buffer) => messages.push(decodeFeedMessage(d.toString('utf8'))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, opened };
}

async function until(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

it.each([
  ['default buffer', undefined],
  ['waiting for drain after every page', 1],
])('pages a backlog and live alarms in cursor order, with no gap and no repeat (%s)', async (_name, highWater) => {
  const s = await setup(highWater);
  s.raise(1234);
  const c = connect(s.base, 100);
  await c.opened;
  // Live alarms keep arriving while the backlog is being paged out.
  for (let i = 0; i < 20; i++) {
    s.raise(37);
    await new Promise((r) => setImmediate(r));
  }
  const total = 1234 + 20 * 37;
  await until(() => c.messages.length === 1 + total - 100);
  expect(c.messages[0]).toEqual({ type: 'hello', head: 1234, server: 'test' });
  const alarms = c.messages.slice(1);
  expect(alarms.map((m) => (m.type === 'alarm' ? m.cursor : -1))).toEqual(Array.from({ length: total - 100 }, (_, i) => 101 + i));
  expect(alarms[0]).toEqual({ type: 'alarm', cursor: 101, alarmId: 'A-101', deviceId: 'd1', kind: 'exclusion_zone_entry', seq: 101, deviceTime: 101, raisedAt: 102, zoneId: 'z' });
  // zoneId and pairId are present only when set.
  expect(alarms[1]).toEqual({ type: 'alarm', cursor: 102, alarmId: 'A-102', deviceId: 'd1', kind: 'exclusion_zone_entry', seq: 102, deviceTime: 102, raisedAt: 103, pairId: 'p' });
  expect(alarms[3]).toEqual({ type: 'alarm', cursor: 104, alarmId: 'A-104', deviceId: 'd1', kind: 'exclusion_zone_entry', seq: 104, deviceTime: 104, raisedAt: 105 });
});

it('rejects a missing or wrong token with 401, a bad cursor with 400, another path with 404', async () => {
  const s = await setup();
  const status = async (url: string, headers: Record<string, string>) => new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => resolve(101));
    ws.once('error', () => {});
  });
  expect(await status(feedUrl(s.base, 0), {})).toBe(401);
  expect(await status(feedUrl(s.base, 0), { authorization: 'Bearer nope' })).toBe(401);
  expect(await status(feedUrl(s.base, 0).replace('after=0', 'after=-3'), { authorization: 'Bearer tok' })).toBe(400);
  expect(await status(`${s.base.replace('http', 'ws')}/elsewhere`, { authorization: 'Bearer tok' })).toBe(404);
  expect(await status(feedUrl(s.base, 0), { authorization: 'Bearer tok' })).toBe(101);
});
