/**
 * The harness's feed client keeps its footing (issue 8 item 6), against a small feed server of the
 * protocol/feed.ts contract: a pipeline restart (resume from the cursor: no gap, no replay counted
 * twice), a slow feed (no timeout drops anything), and malformed messages (counted, named, no crash).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FeedAlarm } from '../protocol/feed.ts';
import { FeedConsumer } from './feed-consumer.ts';
import type { Observation } from './ledger.ts';

const TOKEN = 'secret-token';

const alarm = (cursor: number): FeedAlarm => ({
  type: 'alarm', cursor, alarmId: `A-${cursor}`, deviceId: `PSEM-${cursor}`, kind: 'strap_tamper', seq: cursor, deviceTime: 1000 * cursor, raisedAt: 1000 * cursor + 5,
});

interface FeedServer {
  readonly url: string;
  readonly port: number;
  /** The `after` of every connection, in order. */
  readonly afters: number[];
  readonly clients: Set<WebSocket>;
  /** Sends to every connected client. */
  send(raw: string | Buffer): void;
  /** Drops every connection and stops listening: the pipeline died. */
  close(): Promise<void>;
}

/**
 * A feed as the reference pipeline serves it: the alarms of `store` after the client's cursor on
 * connect — from `after` itself when `replayLast` (a pipeline that resends the last alarm on resume) —
 * then whatever is sent live. The first `refuse` upgrades are answered 503: a pipeline still starting.
 */
async function feedServer(store: FeedAlarm[], o: { port?: number; replayLast?: boolean; refuse?: number } = {}): Promise<FeedServer> {
  const afters: number[] = [];
  const clients = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true });
  let refuse = o.refuse ?? 0;
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}` || refuse-- > 0) {
      socket.end(req.headers.authorization !== `Bearer ${TOKEN}` ? 'HTTP/1.1 401 Unauthorized\r\n\r\n' : 'HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const after = Number(new URL(req.url ?? '', 'http://x').searchParams.get('after'));
      afters.push(after);
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.send(JSON.stringify({ type: 'hello', head: store.at(-1)?.cursor ?? 0, server: 'test-feed' }));
      for (const a of store) if (o.replayLast ? a.cursor >= after : a.cursor > after) ws.send(JSON.stringify(a));
    });
  });
  await new Promise<void>((r) => http.listen(o.port ?? 0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, port, afters, clients,
    send: (raw) => {
      for (const c of clients) c.send(raw);
    },
    close: async () => {
      for (const c of clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

const servers: FeedServer[] = [];
const consumers: FeedConsumer[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.stop();
  for (const s of servers.splice(0)) await s.close().catch(() => undefined);
});

function consumer(url: string, seen: Observation[], more: Partial<ConstructorParameters<typeof FeedConsumer>[0]> = {}): FeedConsumer {
  const c = new FeedConsumer({ baseUrl: url, token: TOKEN, after: 0, now: () => Date.now(), onObservation: (o) => seen.push(o), ...more });
  consumers.push(c);
  return c;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('feed consumer', () => {
  it('survives a pipeline restart: resumes after its cursor, no gap, a replayed alarm not counted twice', async () => {
    const store = [alarm(1), alarm(2), alarm(3)];
    const first = await feedServer(store);
    servers.push(first);
    const seen: Observation[] = [];
    const c = consumer(first.url, seen);
    await c.start();
    await until(() => seen.length === 3);

    // The pipeline dies; alarms 4 and 5 are raised while the harness is cut off.
    await first.close();
    store.push(alarm(4), alarm(5));
    await new Promise((r) => setTimeout(r, 300));
    // It comes back on the same port, refusing the first upgrade while it starts, and resends the last alarm the harness saw.
    const again = await feedServer(store, { port: first.port, replayLast: true, refuse: 1 });
    servers.push(again);
    await until(() => seen.length === 5);
    again.send(JSON.stringify(alarm(6)));
    await until(() => seen.length === 6);

    expect(seen.map((o) => o.alarm.cursor)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(again.afters).toEqual([3]);
    expect(c.lastCursor).toBe(6);
    expect(c.stats).toMatchObject({ alarms: 6, replays: 1, disconnects: expect.any(Number), malformed: 0 });
    expect(c.stats.disconnects).toBeGreaterThanOrEqual(1);
  });

  it('waits out a slow feed: nothing times out, every alarm is counted', async () => {
    const feed = await feedServer([]);
    servers.push(feed);
    const seen: Observation[] = [];
    const c = consumer(feed.url, seen);
    await c.start();
    for (let i = 1; i <= 3; i++) {
      await new Promise((r) => setTimeout(r, 300));
      feed.send(JSON.stringify(alarm(i)));
    }
    // A long silence, then one more.
    await new Promise((r) => setTimeout(r, 1000));
    feed.send(JSON.stringify(alarm(4)));
    await until(() => seen.length === 4);
    expect(seen.map((o) => o.alarm.cursor)).toEqual([1, 2, 3, 4]);
    expect(c.stats).toMatchObject({ connects: 1, disconnects: 0, alarms: 4 });
  });

  it('gives up on a feed that never answers, and tries no more after saying so', async () => {
    const probe = await feedServer([]);
    const port = probe.port;
    await probe.close();
    const c = consumer(`http://127.0.0.1:${port}`, []);
    await expect(c.start(400)).rejects.toMatchObject({ code: 'VIGIL_PIPELINE_UNREACHABLE', message: expect.stringMatching(/did not answer within 0.4 s/) });
    // The pipeline comes up afterwards: the consumer that gave up never connects.
    const late = await feedServer([], { port });
    servers.push(late);
    await new Promise((r) => setTimeout(r, 600));
    expect(late.afters).toEqual([]);
    expect(c.stats.connects).toBe(0);
  });

  it('counts and names malformed messages, and goes on reading', async () => {
    const feed = await feedServer([]);
    servers.push(feed);
    const seen: Observation[] = [];
    const named: string[] = [];
    const c = consumer(feed.url, seen, { onMalformed: (reason) => named.push(reason) });
    await c.start();
    feed.send('not json at all');
    feed.send(JSON.stringify({ type: 'alarm', cursor: 1 }));
    feed.send(JSON.stringify({ ...alarm(2), kind: 'no_such_kind' }));
    feed.send(JSON.stringify({ type: 'party' }));
    feed.send(Buffer.from([0xff, 0x00, 0xfe]));
    feed.send(JSON.stringify(alarm(3)));
    await until(() => seen.length === 1);
    expect(seen[0]!.alarm.cursor).toBe(3);
    expect(c.stats).toMatchObject({ malformed: 5, alarms: 1, disconnects: 0 });
    expect(named).toHaveLength(5);
    expect(named[0]).toBe('not JSON');
    expect(c.stats.malformedSamples[0]).toBe('not JSON: not json at all');
    expect(c.stats.malformedSamples[1]).toMatch(/^alarmId: .*"cursor":1/);
    expect(c.stats.malformedSamples[2]).toMatch(/^kind: /);
  });
});
