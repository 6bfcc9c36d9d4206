/**
 * A relay that tests put between Vigil and a monitoring pipeline to make the pipeline look faulty:
 * it withholds, duplicates, delays alarms on the operator feed and cuts feed connections, while
 * plain HTTP (provisioning, ingest summary, health) passes through unchanged.
 *
 *   Vigil ──HTTP / WebSocket──▶ relay (127.0.0.1:PORT) ──▶ upstream pipeline
 *
 * Every decision is taken once per alarmId and remembered, so an alarm the pipeline replays after
 * a resume (protocol/feed.ts: `after=cursor` gets every alarm after it) gets the same treatment:
 * a dropped alarm stays dropped, a duplicated one is not duplicated twice, a delayed one is held once.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { decodeFeedMessage, type FeedAlarm } from '../../protocol/feed.ts';

export interface RelayOptions {
  /** Base URL of the pipeline, e.g. `http://127.0.0.1:8080`. */
  upstream: string;
  /** Alarm messages (parsed FeedAlarm) for which this returns true are never delivered, also not on replay after resume: remember dropped alarmIds. */
  drop?: (alarm: FeedAlarm) => boolean;
  /** For alarms where this returns true, deliver the original AND a fabricated duplicate: same fields but a new alarmId (`${alarmId}-dup`) and same cursor, sent right after. Once per alarmId (not again on replay). */
  duplicate?: (alarm: FeedAlarm) => boolean;
  /**
   * Returns extra real milliseconds to hold this alarm before delivering it (0/undefined = none).
   * Held alarms do not block later messages (others go on in order, the held one later). Once per
   * alarmId. A copy the pipeline replays while the alarm is held is suppressed (the held copy is the
   * delivery). When the connection it was held on has closed by the time it is released, it goes to
   * the first open feed connection, or to the next one that opens (right after that connection's
   * first upstream message, normally the hello): a delay must make an alarm late, never lost.
   */
  delayMs?: (alarm: FeedAlarm) => number | undefined;
  /**
   * Cut the client's feed connection (terminate both sides) after every N alarm messages delivered
   * on that connection; undefined = never. A duplicate counts as a message; an original and its
   * duplicate are never split by a cut.
   */
  cutEvery?: number;
}

export interface Relay {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Every alarm the relay withheld (unique by alarmId). */
  dropped: FeedAlarm[];
  /** Originals it duplicated. */
  duplicated: FeedAlarm[];
  /** Alarms it delayed. */
  delayed: FeedAlarm[];
  /** Connections it cut. */
  cuts: number;
  close(): Promise<void>;
}

/** What the relay decided for one alarmId, taken the first time it saw it. */
interface Decision {
  readonly drop: boolean;
  readonly duplicate: boolean;
  readonly delayMs: number;
}

/** One alarm as it came from upstream: the raw text is what the client receives. */
interface Incoming {
  readonly alarm: FeedAlarm;
  readonly raw: string;
}

/** One client feed connection and its upstream twin. */
interface Link {
  readonly upstream: WebSocket;
  client: WebSocket | undefined;
  /** Upstream messages that arrived before the client was accepted. */
  readonly early: { data: RawData; isBinary: boolean }[];
  /** Alarm messages delivered to the client on this connection (for cutEvery). */
  delivered: number;
  /** Whether the first upstream message went out (orphaned held alarms follow it). */
  started: boolean;
  cut: boolean;
}

/** Request headers that belong to one hop or to the WebSocket handshake itself, not to the request. */
const HOP_HEADERS = new Set([
  'host', 'connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-accept',
]);

/** Close codes that may be sent in a close frame (RFC 6455 §7.4.1: 1005, 1006 and 1015 may not). */
function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Rejects a pending upgrade with a plain HTTP response and closes the socket. */
function rejectUpgrade(socket: Duplex, status: number, headers: Record<string, string>, body: Buffer): void {
  if (socket.destroyed) return;
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${body.length}`);
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
}

export async function startFeedRelay(opts: RelayOptions): Promise<Relay> {
  const upstreamBase = new URL(opts.upstream);
  if (upstreamBase.protocol !== 'http:' && upstreamBase.protocol !== 'https:') {
    throw new TypeError(`feed relay: upstream must be an http(s) URL, got ${opts.upstream}`);
  }
  if (opts.cutEvery !== undefined && !(Number.isSafeInteger(opts.cutEvery) && opts.cutEvery >= 1)) {
    throw new RangeError(`feed relay: cutEvery must be an integer ≥ 1, got ${String(opts.cutEvery)}`);
  }
  // A private agent, so close() can drop the relay's idle keep-alive sockets to the upstream.
  const agent = new http.Agent({ keepAlive: true });
  const wss = new WebSocketServer({ noServer: true });
  const links = new Set<Link>();
  const pendingUpgrades = new Set<Duplex>();
  const timers = new Set<NodeJS.Timeout>();

  const decisions = new Map<string, Decision>();
  const droppedIds = new Set<string>();
  const duplicatedIds = new Set<string>();
  /** alarmIds being held right now, and those whose hold is over. */
  const held = new Set<string>();
  const released = new Set<string>();
  /** Held alarms released while no feed connection was open: the next connection gets them. */
  const orphans: Incoming[] = [];

  const relay: Relay = {
    url: '',
    dropped: [],
    duplicated: [],
    delayed: [],
    cuts: 0,
    close,
  };

  function decide(alarm: FeedAlarm): Decision {
    const known = decisions.get(alarm.alarmId);
    if (known) return known;
    const drop = opts.drop?.(alarm) === true;
    const decision: Decision = drop
      ? { drop, duplicate: false, delayMs: 0 }
      : { drop, duplicate: opts.duplicate?.(alarm) === true, delayMs: Math.max(0, opts.delayMs?.(alarm) ?? 0) };
    decisions.set(alarm.alarmId, decision);
    return decision;
  }

  function isOpen(link: Link): link is Link & { client: WebSocket } {
    return !link.cut && link.client !== undefined && link.client.readyState === WebSocket.OPEN;
  }

  /** Terminates both sides of a link that deliver() has already marked cut. */
  function cut(link: Link): void {
    relay.cuts += 1;
    link.client?.terminate();
    link.upstream.terminate();
  }

  /** Sends an alarm (and its duplicate, the first time) on an open link; false if it could not. */
  function deliver(link: Link, item: Incoming): boolean {
    if (!isOpen(link)) return false;
    const { alarm, raw } = item;
    const messages = [raw];
    if (decide(alarm).duplicate && !duplicatedIds.has(alarm.alarmId)) {
      duplicatedIds.add(alarm.alarmId);
      relay.duplicated.push(alarm);
      // From the raw object, not the parsed one, so fields the schema does not know survive too.
      messages.push(JSON.stringify({ ...(JSON.parse(raw) as Record<string, unknown>), alarmId: `${alarm.alarmId}-dup` }));
    }
    link.delivered += messages.length;
    const cutNow = opts.cutEvery !== undefined && link.delivered >= opts.cutEvery;
    // The original and its duplicate go out together: a cut never falls between them. A cut link
    // takes nothing more at once, but dies only when the last message is written out, so the alarms
    // the cut comes "after" really reach the client.
    messages.forEach((m, i) => {
      if (cutNow && i === messages.length - 1) link.client.send(m, () => cut(link));
      else link.client.send(m);
    });
    if (cutNow) link.cut = true;
    return true;
  }

  function release(origin: Link, item: Incoming): void {
    held.delete(item.alarm.alarmId);
    released.add(item.alarm.alarmId);
    const target = isOpen(origin) ? origin : [...links].find((l) => isOpen(l) && l.started);
    if (target === undefined || !deliver(target, item)) orphans.push(item);
  }

  function hold(link: Link, item: Incoming, ms: number): void {
    held.add(item.alarm.alarmId);
    relay.delayed.push(item.alarm);
    const timer = setTimeout(() => {
      timers.delete(timer);
      release(link, item);
    }, ms);
    timers.add(timer);
  }

  function onAlarm(link: Link, item: Incoming): void {
    const { alarm } = item;
    const decision = decide(alarm);
    if (decision.drop) {
      if (!droppedIds.has(alarm.alarmId)) {
        droppedIds.add(alarm.alarmId);
        relay.dropped.push(alarm);
      }
      return;
    }
    if (held.has(alarm.alarmId)) return; // a replay while held: the held copy is the delivery
    if (decision.delayMs > 0 && !released.has(alarm.alarmId)) {
      hold(link, item, decision.delayMs);
      return;
    }
    deliver(link, item);
  }

  function fromUpstream(link: Link, data: RawData, isBinary: boolean): void {
    if (!isOpen(link)) return;
    const first = !link.started;
    link.started = true;
    let alarm: FeedAlarm | undefined;
    const raw = isBinary ? '' : toText(data);
    if (!isBinary) {
      try {
        const msg = decodeFeedMessage(raw);
        if (msg.type === 'alarm') alarm = msg;
      } catch {
        // Unparsable: not ours to judge, it passes through unchanged.
      }
    }
    if (alarm === undefined) link.client.send(data, { binary: isBinary });
    else onAlarm(link, { alarm, raw });
    if (first) {
      while (orphans.length > 0 && isOpen(link)) {
        const item = orphans.shift();
        if (item !== undefined) deliver(link, item);
      }
    }
  }

  function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    pendingUpgrades.add(socket);
    socket.on('error', () => socket.destroy());
    const target = new URL(req.url ?? '/', upstreamBase);
    target.protocol = upstreamBase.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const protocols = req.headers['sec-websocket-protocol']?.split(',').map((p) => p.trim()).filter(Boolean);
    delete headers['sec-websocket-protocol'];
    const upstream = new WebSocket(target, protocols, { headers, perMessageDeflate: false });
    const link: Link = { upstream, client: undefined, early: [], delivered: 0, started: false, cut: false };
    links.add(link);
    let accepted = false;

    const abandon = (): void => {
      pendingUpgrades.delete(socket);
      links.delete(link);
    };
    socket.once('close', () => {
      if (!accepted) {
        abandon();
        upstream.terminate();
      }
    });
    upstream.on('unexpected-response', (_ureq, res) => {
      // The pipeline refused the handshake (401 for a bad token…): the client gets the same answer.
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => socket.destroy());
      res.on('end', () => {
        const pass: Record<string, string> = {};
        for (const name of ['content-type', 'www-authenticate']) {
          const v = res.headers[name];
          if (typeof v === 'string') pass[name] = v;
        }
        abandon();
        rejectUpgrade(socket, res.statusCode ?? 502, pass, Buffer.concat(chunks));
      });
    });
    upstream.on('error', () => {
      if (!accepted) {
        abandon();
        rejectUpgrade(socket, 502, {}, Buffer.from('feed relay: upstream unreachable'));
      } else {
        link.client?.terminate();
      }
    });
    upstream.on('message', (data, isBinary) => {
      if (link.client === undefined) link.early.push({ data, isBinary });
      else fromUpstream(link, data, isBinary);
    });
    upstream.on('close', (code, reason) => {
      links.delete(link);
      const client = link.client;
      if (client === undefined) return;
      if (sendableCloseCode(code) && client.readyState === WebSocket.OPEN) client.close(code, reason);
      else client.terminate();
    });
    upstream.on('open', () => {
      if (socket.destroyed) {
        abandon();
        upstream.terminate();
        return;
      }
      accepted = true;
      pendingUpgrades.delete(socket);
      wss.handleUpgrade(req, socket, head, (client) => {
        link.client = client;
        client.on('error', () => client.terminate());
        client.on('message', (data, isBinary) => {
          if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
        });
        client.on('close', (code, reason) => {
          links.delete(link);
          if (sendableCloseCode(code) && upstream.readyState === WebSocket.OPEN) upstream.close(code, reason);
          else upstream.terminate();
        });
        for (const m of link.early.splice(0)) fromUpstream(link, m.data, m.isBinary);
      });
    });
  }

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const headers = { ...req.headers, host: upstreamBase.host };
    const out = http.request(
      { protocol: upstreamBase.protocol, hostname: upstreamBase.hostname, port: upstreamBase.port, method: req.method, path: req.url, headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    out.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`feed relay: upstream unreachable: ${err.message}`);
    });
    req.on('error', () => out.destroy());
    req.pipe(out);
  }

  const server = http.createServer(onRequest);
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('feed relay: no TCP address');
  relay.url = `http://127.0.0.1:${address.port}`;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= shutdown();
    return closing;
  }

  async function shutdown(): Promise<void> {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const link of links) {
      link.client?.terminate();
      link.upstream.terminate();
    }
    links.clear();
    for (const socket of pendingUpgrades) socket.destroy();
    pendingUpgrades.clear();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    agent.destroy();
    await closed;
  }

  return relay;
}
