/**
 * The embedded MQTT broker: aedes in this process, the no-install default when no --broker is given.
 * Listens on loopback only (load tests target 127.0.0.1). It can be killed and restarted on the same
 * port, for the broker-restart process fault (scenarios/runner/process-faults.ts).
 *
 * With `security`, it serves MQTT over TLS (mqtts://) and/or enforces device isolation
 * (sim/broker-policy.ts); without, it is the anonymous plain broker it always was. With `websocket`
 * it serves MQTT over WebSocket instead (ws://, or wss:// with TLS), as brokers behind an HTTPS load
 * balancer do: each WebSocket (subprotocol "mqtt") becomes a stream aedes handles.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { Aedes } from 'aedes';
import { isolationHooks, type IsolationPolicy, type IsolationStats } from './broker-policy.ts';

export interface BrokerSecurity {
  /** The server's certificate and key (PEM); with a CA, a client certificate signed by it is required. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string | undefined } | undefined;
  readonly isolation?: IsolationPolicy | undefined;
}

export interface RunningBroker {
  readonly url: string;
  /** False between kill() and restart(). */
  readonly running: boolean;
  /**
   * Abruptly, as a crash would: every client socket destroyed (no DISCONNECT, no will handling),
   * the listener closed. Sessions and queued messages are gone (aedes keeps them in memory).
   */
  kill(): Promise<void>;
  /** A fresh broker on the same port: no sessions, clients reconnect and subscribe again. */
  restart(): Promise<void>;
  close(): Promise<void>;
  /** What device isolation refused so far (zeros without isolation), across restarts. */
  readonly refused: Readonly<IsolationStats>;
}

interface Instance {
  readonly broker: Aedes;
  readonly server: Server;
  readonly sockets: Set<Socket>;
}

/** The server's certificate; with a CA, a client certificate signed by it is required. */
const serverTls = (tls: NonNullable<BrokerSecurity['tls']>) =>
  ({ cert: tls.cert, key: tls.key, ...(tls.ca !== undefined && { ca: tls.ca, requestCert: true, rejectUnauthorized: true }) });

/** Keeps `socket` in `sockets` until it closes (kill() destroys what is left). */
function track(sockets: Set<Socket>, socket: Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
}

/** A server that hands aedes one stream per MQTT-over-WebSocket connection. */
function webSocketServer(broker: Aedes, tls: BrokerSecurity['tls'], sockets: Set<Socket>): Server {
  const server = tls ? createHttpsServer(serverTls(tls)) : createHttpServer();
  const wss = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  wss.on('connection', (ws, req) => {
    track(sockets, req.socket);
    broker.handle(createWebSocketStream(ws));
  });
  server.once('close', () => wss.close());
  return server;
}

async function listen(port: number, security: BrokerSecurity, refused: IsolationStats, websocket: boolean): Promise<Instance> {
  const broker = await Aedes.createBroker(security.isolation ? isolationHooks(security.isolation, refused) : {});
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket): void => {
    track(sockets, socket);
    broker.handle(socket);
  };
  const { tls } = security;
  const server: Server = websocket ? webSocketServer(broker, tls, sockets) : tls ? createTlsServer(serverTls(tls), onSocket) : createServer(onSocket);
  server.maxConnections = 50_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw err;
  }
  return { broker, server, sockets };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startEmbeddedBroker(port = 0, security: BrokerSecurity = {}, transport: { websocket?: boolean } = {}): Promise<RunningBroker> {
  const refused: IsolationStats = { refusedLogins: 0, refusedPublishes: 0, refusedSubscriptions: 0 };
  const websocket = transport.websocket === true;
  let current: Instance | undefined = await listen(port, security, refused, websocket);
  const address = current.server.address();
  if (address === null || typeof address === 'string') throw new Error('embedded broker: no TCP address');
  const boundPort = address.port;
  let closed = false;

  const kill = async (): Promise<void> => {
    const inst = current;
    if (!inst) return;
    current = undefined;
    const stopped = new Promise<void>((resolve) => inst.server.close(() => resolve()));
    for (const s of inst.sockets) s.destroy();
    await stopped;
    await new Promise<void>((resolve) => inst.broker.close(() => resolve()));
  };

  return {
    url: websocket ? `${security.tls ? 'wss' : 'ws'}://127.0.0.1:${boundPort}/mqtt` : `${security.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${boundPort}`,
    refused,
    get running() {
      return current !== undefined;
    },
    kill,
    restart: async () => {
      if (current || closed) return;
      // The port is free again once the listener closed, but a client's outgoing connection may
      // hold it as its ephemeral port for a moment: retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          current = await listen(boundPort, security, refused, websocket);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
          await sleep(100);
        }
      }
    },
    close: async () => {
      closed = true;
      const inst = current;
      if (!inst) return;
      current = undefined;
      // Close client sockets with the broker, then the listener.
      await new Promise<void>((resolve) => inst.broker.close(() => resolve()));
      await new Promise<void>((resolve) => inst.server.close(() => resolve()));
    },
  };
}
