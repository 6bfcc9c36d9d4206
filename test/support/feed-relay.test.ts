/**
 * The feed relay against a tiny real upstream: a node:http server with one HTTP route and a `ws`
 * feed that sends a hello, the alarms after `after`, a ping and one unparsable message.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { feedUrl, type FeedAlarm } from '../../protocol/feed.ts';
import { startFeedRelay, type Relay, type RelayOptions } from './feed-relay.ts';

const TOKEN = 'secret-token';
const AUTH = `Bearer ${TOKEN}`;
const GARBAGE = 'not json {';

const ALARMS: FeedAlarm[] = [1, 2, 3, 4, 5, 6].map((n) => ({
  type: 'alarm',
  cursor: n,
  alarmId: `a${n}`,
  deviceId: `dev-${n}`,
  kind: n % 2 === 0 ? 'communication_loss' : 'exclusion_zone_entry',
  seq: 10 * n,
  deviceTime: 1_700_000_000_000 + n * 1000,
  raisedAt: 1_700_000_000_500 + n * 1000,
  ...(n % 2 === 0 ? {} : { zoneId: `zone-${n}` }),
}));

interface Upstream {
  url: string;
  /** The `after` of every feed connection, in order. */
  afters: number[];
  /** Messages clients sent up the feed. */
  fromClients: string[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const afters: number[] = [];
  const fromClients: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== AUTH) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization, body: Buffer.concat(chunks).toString() }));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== AUTH || url.pathname !== '/api/v1/feed') {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const after = Number(url.searchParams.get('after') ?? '0');
      afters.push(after);
      ws.on('message', (data) => fromClients.push(data.toString()));
      ws.send(JSON.stringify({ type: 'hello', head: ALARMS.length, server: 'test-upstream' }));
      for (const a of ALARMS) if (a.cursor > after) ws.send(JSON.stringify(a));
      ws.send(JSON.stringify({ type: 'ping', at: 42 }));
      ws.send(GARBAGE);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    afters,
    fromClients,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Received {
  raw: string;
  /** performance.now() when it arrived. */
  at: number;
}

/** Opens one feed connection and collects messages until `until` holds, the connection closes or time runs out. */
async function collect(
  base: string,
  after: number,
  until: (msgs: Received[]) => boolean,
  { token = TOKEN, timeoutMs = 3000, onOpen }: { token?: string; timeoutMs?: number; onOpen?: (ws: WebSocket) => void } = {},
): Promise<{ msgs: Received[]; closedByPeer: boolean }> {
  const ws = new WebSocket(feedUrl(base, after), { headers: { authorization: `Bearer ${token}` } });
  const msgs: Received[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(closedByPeer: boolean): void {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve({ msgs, closedByPeer });
    }
    ws.on('open', () => onOpen?.(ws));
    ws.on('message', (data) => {
      msgs.push({ raw: data.toString(), at: performance.now() });
      if (until(msgs)) finish(false);
    });
    ws.on('close', () => finish(true));
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const alarmsOf = (msgs: Received[]): FeedAlarm[] =>
  msgs.map((m) => {
    try {
      return JSON.parse(m.raw) as { type?: unknown };
    } catch {
      return {};
    }
  }).filter((x): x is FeedAlarm => x.type === 'alarm');
const idsOf = (msgs: Received[]): string[] => alarmsOf(msgs).map((a) => a.alarmId);
const sawGarbage = (msgs: Received[]): boolean => msgs.some((m) => m.raw === GARBAGE);

/**
 * A resuming consumer: reconnects with `after` = the highest cursor seen until it has every wanted
 * alarm, then lingers `settleMs` on that connection to catch anything extra.
 */
async function consume(
  base: string,
  wanted: string[],
  { settleMs = 150, from = 0 }: { settleMs?: number; from?: number } = {},
): Promise<{ alarms: FeedAlarm[]; connections: number }> {
  const alarms: FeedAlarm[] = [];
  let after = from;
  let connections = 0;
  const haveAll = (): boolean => wanted.every((id) => alarms.some((a) => a.alarmId === id));
  const deadline = performance.now() + 5000;
  while (!haveAll()) {
    if (performance.now() > deadline) throw new Error(`consumer gave up; had ${alarms.map((a) => a.alarmId).join(',')}`);
    connections += 1;
    const { msgs } = await collect(base, after, (ms) => {
      const got = alarmsOf(ms);
      return wanted.every((id) => alarms.some((a) => a.alarmId === id) || got.some((a) => a.alarmId === id));
    });
    for (const a of alarmsOf(msgs)) {
      alarms.push(a);
      after = Math.max(after, a.cursor);
    }
  }
  const { msgs } = await collect(base, after, () => false, { timeoutMs: settleMs });
  alarms.push(...alarmsOf(msgs));
  return { alarms, connections };
}

describe('feed relay', () => {
  let upstream: Upstream;
  let relay: Relay | undefined;

  async function start(opts: Omit<RelayOptions, 'upstream'> = {}): Promise<Relay> {
    upstream = await startUpstream();
    relay = await startFeedRelay({ upstream: upstream.url, ...opts });
    return relay;
  }

  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    await upstream.close();
  });

  it('proxies plain HTTP unchanged: method, path, query, Authorization, body, status and headers', async () => {
    const r = await start();
    const res = await fetch(`${r.url}/api/v1/provision?x=1`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: '{"runId":"r1"}',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(await res.json()).toEqual({ method: 'POST', url: '/api/v1/provision?x=1', auth: AUTH, body: '{"runId":"r1"}' });

    const denied = await fetch(`${r.url}/api/v1/ingest/summary`, { headers: { authorization: 'Bearer wrong' } });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: 'unauthorized' });
  });

  it('passes a clean feed through unchanged, both ways, honouring after', async () => {
    const r = await start();
    const { msgs } = await collect(r.url, 2, sawGarbage, {
      onOpen: (ws) => ws.send('hello from client'),
    });
    expect(msgs.map((m) => m.raw)).toEqual([
      JSON.stringify({ type: 'hello', head: 6, server: 'test-upstream' }),
      ...ALARMS.slice(2).map((a) => JSON.stringify(a)),
      JSON.stringify({ type: 'ping', at: 42 }),
      GARBAGE,
    ]);
    expect(upstream.afters).toEqual([2]);
    await expect.poll(() => upstream.fromClients).toEqual(['hello from client']);
    expect(r.dropped).toEqual([]);
    expect(r.cuts).toBe(0);
  });

  it('rejects the upgrade with 401 when the upstream does', async () => {
    const r = await start();
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(feedUrl(r.url, 0), { headers: { authorization: 'Bearer wrong' } });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode);
        res.resume();
        ws.terminate();
      });
      ws.on('error', () => undefined);
      ws.on('open', () => {
        resolve(101);
        ws.terminate();
      });
    });
    expect(status).toBe(401);
    expect(upstream.afters).toEqual([]);
  });

  it('drops an alarm for good, also on replay, deciding once per alarmId', async () => {
    const calls: string[] = [];
    const r = await start({
      drop: (a) => {
        calls.push(a.alarmId);
        return a.alarmId === 'a3';
      },
    });
    const first = await collect(r.url, 0, sawGarbage);
    expect(idsOf(first.msgs)).toEqual(['a1', 'a2', 'a4', 'a5', 'a6']);
    const replay = await collect(r.url, 0, sawGarbage);
    expect(idsOf(replay.msgs)).toEqual(['a1', 'a2', 'a4', 'a5', 'a6']);
    expect(r.dropped.map((a) => a.alarmId)).toEqual(['a3']);
    expect(r.dropped[0]).toEqual(ALARMS[2]);
    expect(calls).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  });

  it('duplicates an alarm once: same fields and cursor, new alarmId, right after the original', async () => {
    const calls: string[] = [];
    const r = await start({
      duplicate: (a) => {
        calls.push(a.alarmId);
        return a.alarmId === 'a2';
      },
    });
    const first = await collect(r.url, 0, sawGarbage);
    expect(idsOf(first.msgs)).toEqual(['a1', 'a2', 'a2-dup', 'a3', 'a4', 'a5', 'a6']);
    const dup = alarmsOf(first.msgs)[2];
    expect(dup).toEqual({ ...ALARMS[1], alarmId: 'a2-dup' });
    const replay = await collect(r.url, 0, sawGarbage);
    expect(idsOf(replay.msgs)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(r.duplicated).toEqual([ALARMS[1]]);
    expect(calls).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  });

  it('delays an alarm without holding back the ones after it, once per alarmId', async () => {
    const DELAY = 300;
    const calls: string[] = [];
    const r = await start({
      delayMs: (a) => {
        calls.push(a.alarmId);
        return a.alarmId === 'a2' ? DELAY : undefined;
      },
    });
    const t0 = performance.now();
    const held = collect(r.url, 0, (ms) => idsOf(ms).includes('a2'));
    await expect.poll(() => upstream.afters).toEqual([0]);
    // A second consumer replaying from 0 while a2 is held does not get it early: the held copy is the delivery.
    const meanwhile = await collect(r.url, 0, sawGarbage);
    expect(idsOf(meanwhile.msgs)).toEqual(['a1', 'a3', 'a4', 'a5', 'a6']);
    const { msgs } = await held;
    expect(idsOf(msgs)).toEqual(['a1', 'a3', 'a4', 'a5', 'a6', 'a2']);
    expect(sawGarbage(msgs)).toBe(true); // the rest, non-alarms included, went by before it
    const a2 = msgs.find((m) => m.raw === JSON.stringify(ALARMS[1]));
    expect(a2!.at - t0).toBeGreaterThanOrEqual(DELAY);
    expect(r.delayed).toEqual([ALARMS[1]]);

    const replay = await collect(r.url, 0, sawGarbage);
    expect(idsOf(replay.msgs)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(r.delayed).toHaveLength(1);
    expect(calls).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  });

  it('cuts the connection after every N alarms; a resuming consumer still gets each alarm once', async () => {
    const r = await start({ cutEvery: 2 });
    const first = await collect(r.url, 0, () => false);
    expect(first.closedByPeer).toBe(true);
    expect(idsOf(first.msgs)).toEqual(['a1', 'a2']);
    expect(r.cuts).toBe(1);

    const { alarms, connections } = await consume(r.url, ['a3', 'a4', 'a5', 'a6'], { from: 2 });
    expect(alarms.map((a) => a.alarmId)).toEqual(['a3', 'a4', 'a5', 'a6']);
    expect(connections).toBe(2);
    expect(upstream.afters).toEqual([0, 2, 4, 6]);
    expect(r.cuts).toBe(3);
  });

  it('combines drop, duplicate and cuts across resumes: dropped stays dropped, one duplicate each', async () => {
    const r = await start({ cutEvery: 2, drop: (a) => a.alarmId === 'a3', duplicate: (a) => a.alarmId === 'a2' || a.alarmId === 'a4' });
    const wanted = ['a1', 'a2', 'a2-dup', 'a4', 'a4-dup', 'a5', 'a6'];
    const { alarms } = await consume(r.url, wanted);
    expect(alarms.map((a) => a.alarmId)).toEqual(wanted);
    expect(r.dropped.map((a) => a.alarmId)).toEqual(['a3']);
    expect(r.duplicated.map((a) => a.alarmId)).toEqual(['a2', 'a4']);
    // [a1 a2 a2-dup]: a cut never falls between an original and its duplicate; [a4 a4-dup]: a
    // duplicate counts as a delivered message; [a5 a6]; then a fourth connection with nothing new.
    expect(r.cuts).toBe(3);
    expect(upstream.afters).toEqual([0, 2, 4, 6]);
  });

  it('a delayed alarm whose connection was cut is delivered later on another connection, never lost', async () => {
    const r = await start({ cutEvery: 2, delayMs: (a) => (a.alarmId === 'a1' ? 200 : 0) });
    const { alarms } = await consume(r.url, ALARMS.map((a) => a.alarmId), { settleMs: 400 });
    // Exactly once each: the consumer resumed past cursor 1, so only the held copy can bring a1.
    expect(alarms.map((a) => a.alarmId).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(alarms[0]?.alarmId).toBe('a2');
    expect(r.delayed.map((a) => a.alarmId)).toEqual(['a1']);
  });

  it('close() ends live feed connections and frees the port', async () => {
    const r = await start();
    const open = collect(r.url, 6, () => false, { timeoutMs: 5000 });
    await expect.poll(() => upstream.afters).toEqual([6]);
    await r.close();
    const { closedByPeer } = await open;
    expect(closedByPeer).toBe(true);
    await expect(fetch(`${r.url}/api/v1/health`)).rejects.toThrow();
  });
});
