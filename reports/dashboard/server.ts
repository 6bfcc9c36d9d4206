/**
 * The live dashboard's server (issue 6, item 3): one HTTP server on the loopback interface that
 * serves ONE self-contained page at `/` and a WebSocket endpoint at `/live` (the `ws` package) on
 * the same port. Nothing else: no file is served, nothing is fetched by the page.
 *
 * A browser must never hold the run back: a message is skipped for a browser still sending an
 * earlier one (each message is the full state, so the next one loses nothing); any number of
 * browsers may connect; one that goes away is not an error. At the end of the run the last message
 * goes to every browser, then their sockets close and the server with them — the run's process
 * is never kept alive by it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { VigilError } from '../../protocol/errors.ts';

/** `--dashboard` with no port: a port of its own, clear of the pipeline's and brokers' usual ones (1883, 8080). */
export const DEFAULT_DASHBOARD_PORT = 7070;

/** Loopback only: the run's data is for the person at this machine (docs/REPORTS.md "Live dashboard"). */
const HOST = '127.0.0.1';
export const LIVE_PATH = '/live';

/** How long the end of a run waits for browsers to take the last message and close, at most (real ms). */
const CLOSE_GRACE_MS = 1500;

/**
 * The page's policy, sent as a header: inline style and script of its own, a WebSocket back to this
 * server, and nothing else — no image, font, frame or fetch anywhere.
 */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'";

export interface DashboardServer {
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  readonly port: number;
  /** Browsers connected now. */
  readonly clients: number;
  /** A message to every browser that is not still busy with an earlier one. */
  broadcast(message: string): SendCount;
  /** The run's last message to every browser, then their sockets closed, and the server. */
  finish(message: string): Promise<void>;
  /** Closes at once (a run that ended without a verdict); safe to call twice. */
  close(): Promise<void>;
}

export interface SendCount {
  readonly sent: number;
  /** Browsers skipped: an earlier message was still waiting to go to them. */
  readonly skipped: number;
}

/** The part of a socket broadcastTo needs (a test passes fakes). */
export interface LiveClient {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
}

/**
 * Sends to every open client whose socket has nothing of an earlier message left to write. A
 * slow browser then costs one skipped message, never a queue that grows in the run's memory.
 */
export function broadcastTo(clients: Iterable<LiveClient>, message: string): SendCount {
  let sent = 0;
  let skipped = 0;
  for (const c of clients) {
    if (c.readyState !== WebSocket.OPEN) continue;
    if (c.bufferedAmount > 0) {
      skipped++;
      continue;
    }
    c.send(message);
    sent++;
  }
  return { sent, skipped };
}

export interface DashboardServerOptions {
  /** 0: any free port. */
  readonly port: number;
  /** The page served at `/`. */
  readonly page: string;
  /** The current state, sent to a browser as soon as it connects. */
  readonly current: () => string;
}

/** Listens on 127.0.0.1:port; a port in use or not allowed is a VigilError naming it and the fix. */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  let port = opts.port;
  // A Host other than this server's own is refused: a web page elsewhere cannot point a name of its
  // own at 127.0.0.1 (DNS rebinding) and read the run.
  const ownHost = (req: IncomingMessage): boolean => req.headers.host === `${HOST}:${port}` || req.headers.host === `localhost:${port}`;
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!ownHost(req)) return void res.writeHead(403, { 'content-type': 'text/plain' }).end(`the Vigil dashboard answers only as ${HOST}:${port}\n`);
    if (req.method !== 'GET' || (req.url !== '/' && req.url !== '/index.html')) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the dashboard is at /\n');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'cache-control': 'no-store' }).end(opts.page);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, HOST, () => {
      http.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    throw portError(opts.port, err);
  });
  port = (http.address() as AddressInfo).port;
  http.unref();

  const wss = new WebSocketServer({ server: http, path: LIVE_PATH, verifyClient: ({ req }: { req: IncomingMessage }) => ownHost(req) });
  // A browser that closes its tab mid-message is not an error of the run.
  wss.on('error', () => {});
  /** The run's last message, once it is being sent: a browser that joins while the others close gets it too. */
  let last: string | undefined;
  const sendLast = (ws: WebSocket, message: string): void => ws.send(message, () => ws.close(1000, 'run ended'));
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    if (last !== undefined) sendLast(ws, last);
    else ws.send(opts.current());
  });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      http.close(() => resolve());
      http.closeAllConnections();
    });
    return closed;
  };

  return {
    url: `http://${HOST}:${port}/`,
    port,
    get clients() {
      return wss.clients.size;
    },
    broadcast: (message) => broadcastTo(wss.clients, message),
    async finish(message) {
      // The last message goes even to a slow browser: it is the verdict. Then a clean close, so the
      // page knows the run ended rather than that the connection broke.
      last = message;
      const open = [...wss.clients].filter((ws) => ws.readyState === WebSocket.OPEN);
      const gone = open.map((ws) => new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        sendLast(ws, message);
      }));
      await Promise.race([Promise.all(gone), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
      await close();
    },
    close,
  };
}

function portError(port: number, err: unknown): VigilError {
  const code = (err as NodeJS.ErrnoException).code;
  const fix = `pass another port (--dashboard ${port === 65535 ? 7071 : port + 1}), or --dashboard 0 for any free one`;
  if (code === 'EADDRINUSE') return new VigilError('VIGIL_DASHBOARD_PORT', `--dashboard: port ${port} on ${HOST} is in use (another dashboard or program listens there)`, fix);
  if (code === 'EACCES') return new VigilError('VIGIL_DASHBOARD_PORT', `--dashboard: not allowed to listen on port ${port} on ${HOST} (ports below 1024 need privileges)`, fix);
  return new VigilError('VIGIL_DASHBOARD_PORT', `--dashboard: cannot listen on port ${port} on ${HOST}: ${(err as Error).message}`, fix);
}
