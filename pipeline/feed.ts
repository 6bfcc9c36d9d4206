/**
 * The operator feed (protocol/feed.ts): WebSocket at FEED_PATH, bearer token, `?after=cursor`.
 * Each client has a `sentCursor`; every wake-up sends the alarms above it in cursor order, read from
 * the store in pages, until caught up. Reading from the store (not pushing in-memory events) is what
 * makes "no gap, ever" hold across resumes, restarts and slow clients alike (DESIGN.md "Operator feed").
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { FEED_PATH, type FeedAlarm, type FeedHello } from '../protocol/feed.ts';
import { bearerOk } from './auth.ts';
import type { AlarmRow, Store } from './store.ts';

const PAGE = 500;
const PING_MS = 5000;

interface Client {
  readonly ws: WebSocket;
  sentCursor: number;
  busy: boolean;
  again: boolean;
}

export interface FeedOptions {
  server: Server;
  store: Store;
  token: string;
  serverName: string;
  /** Time for pings (virtual now). */
  now: () => number;
  log: (line: string) => void;
  /** Above this many buffered bytes a client's pump waits for its socket to drain. Default 1 MiB. */
  highWaterBytes?: number;
}

export function toFeedAlarm(r: AlarmRow): FeedAlarm {
  const a: FeedAlarm = {
    type: 'alarm', cursor: r.cursor, alarmId: r.alarmId, deviceId: r.deviceId, kind: r.kind,
    seq: r.seq, deviceTime: r.deviceTime, raisedAt: r.raisedAt,
  };
  // Present only when set (protocol/feed.ts: optional fields).
  if (r.zoneId !== null) a.zoneId = r.zoneId;
  if (r.pairId !== null) a.pairId = r.pairId;
  return a;
}

function reject(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ error: reason });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `connection: close\r\n${status === 401 ? 'www-authenticate: Bearer\r\n' : ''}\r\n${body}`);
}

export class Feed {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly clients = new Set<Client>();
  private readonly pingTimer: NodeJS.Timeout;

  constructor(private readonly opts: FeedOptions) {
    opts.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.pingTimer = setInterval(() => this.ping(), PING_MS);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== FEED_PATH) return reject(socket, 404, 'Not Found');
    if (!bearerOk(req.headers, this.opts.token)) return reject(socket, 401, 'Unauthorized');
    const raw = url.searchParams.get('after') ?? '0';
    const after = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(after)) return reject(socket, 400, 'Bad Request');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, after));
  }

  private onConnection(ws: WebSocket, after: number): void {
    const c: Client = { ws, sentCursor: after, busy: false, again: false };
    this.clients.add(c);
    ws.on('close', () => this.clients.delete(c));
    ws.on('error', (err) => this.opts.log(`feed client error: ${err.message}`));
    const hello: FeedHello = { type: 'hello', head: this.opts.store.head(), server: this.opts.serverName };
    ws.send(JSON.stringify(hello));
    this.pump(c);
  }

  /** New alarms were committed: wake every client. */
  notify(): void {
    for (const c of this.clients) this.pump(c);
  }

  private pump(c: Client): void {
    if (c.busy) {
      c.again = true;
      return;
    }
    c.busy = true;
    this.drain(c)
      .catch((err: unknown) => {
        this.opts.log(`feed pump failed: ${String(err)}`);
        c.ws.terminate();
      })
      .finally(() => {
        c.busy = false;
        // A wake-up may land between the last page and here (e.g. from a microtask).
        if (c.again) this.pump(c);
      });
  }

  private async drain(c: Client): Promise<void> {
    do {
      c.again = false;
      for (;;) {
        if (c.ws.readyState !== WebSocket.OPEN) return;
        const rows = this.opts.store.alarmsAfter(c.sentCursor, PAGE);
        if (rows.length === 0) break;
        let flushed: Promise<void> | undefined;
        rows.forEach((r, i) => {
          const text = JSON.stringify(toFeedAlarm(r));
          if (i === rows.length - 1) flushed = new Promise((resolve) => c.ws.send(text, () => resolve()));
          else c.ws.send(text);
          c.sentCursor = r.cursor;
        });
        if (c.ws.bufferedAmount > (this.opts.highWaterBytes ?? 1 << 20) && flushed) await flushed;
      }
    } while (c.again);
  }

  private ping(): void {
    const text = JSON.stringify({ type: 'ping', at: this.opts.now() });
    for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }

  close(): void {
    clearInterval(this.pingTimer);
    for (const c of this.clients) c.ws.close(1001, 'pipeline shutting down');
    // Clients that do not answer the close handshake are cut after a moment.
    const t = setTimeout(() => { for (const c of this.clients) c.ws.terminate(); }, 1000);
    t.unref();
    this.wss.close();
  }
}
