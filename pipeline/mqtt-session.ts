/**
 * The pipeline's MQTT session, lean: one persistent MQTT 3.1.1 session over TCP (`mqtt://`,
 * `tcp://`), TLS (`mqtts://`) or WebSocket (`ws://`, `wss://`: the `ws` library's stream, binary
 * frames, subprotocol "mqtt" [MQTT-6.0.0-3]) that subscribes to one filter at QoS 1, PUBACKs each inbound publish on receipt, and
 * publishes acks at QoS 1. Written on mqtt-packet (parser and CONNECT/SUBSCRIBE/PUBLISH encoding)
 * rather than mqtt.js: at one record per message mqtt.js's per-packet bookkeeping (stores, streams,
 * callbacks, a message-id allocator, an object per packet and per PUBACK) cost about a fifth of the
 * pipeline's CPU (docs/PERFORMANCE.md "Who sets the pace"). What is left out, and why it is safe here:
 * - No outgoing store: an ack lost with the connection is not resent. The device keeps its records
 *   until an ack covers them and resends; the pipeline re-acks a duplicate (DESIGN.md "Uplink").
 * - QoS 0 and 1 inbound only: the subscription is granted at most QoS 1.
 * pipeline/ imports protocol/ only (DESIGN.md), so the fleet's lean link (sim/transport) is not reused.
 */
import { connect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls } from 'node:tls';
import { createWebSocketStream, WebSocket } from 'ws';
import { redactUrl } from '../protocol/redact.ts';
import { MQTT_TLS_SCHEMES, MQTT_WS_SCHEMES, mqttDefaultPort, type TlsMaterial } from '../protocol/tls.ts';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';

export interface SessionOptions {
  /**
   * mqtt:// or tcp:// (port 1883 when none), mqtts:// (also ssl://, tls://; 8883) with `tls`, or
   * ws:// or wss:// (with `tls`; the URL's path, e.g. /mqtt).
   * A username and password come as the URL's userinfo (the broker's service account, issue 8).
   */
  url: string;
  tls?: TlsMaterial | undefined;
  clientId: string;
  /** The one filter subscribed at QoS 1 on every connect (also when the broker kept the session). */
  subscription: string;
  keepaliveS?: number;
  reconnectMs?: number;
  connectTimeoutMs?: number;
  onConnect: (sessionPresent: boolean) => void;
  /** The subscription was granted (at QoS `qos`), or refused (`qos` undefined or 0x80). */
  onSubscribed: (qos: number | undefined) => void;
  onMessage: (topic: string, payload: Buffer) => void;
  /** A socket or protocol error; the session reconnects by itself. */
  onError: (message: string) => void;
  onOffline: () => void;
}

/** PUBACK [MQTT-3.4]: fixed header 0x40, remaining length 2, the packet id. 4 bytes, encoded here. */
function puback(id: number): Buffer {
  return Buffer.from([0x40, 0x02, id >> 8, id & 0xff]);
}

const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);
/** Packet id of the SUBSCRIBE; acks use 2..65535 in turn. */
const SUBSCRIBE_ID = 1;

export class MqttSession {
  private readonly host: string;
  private readonly port: number;
  private readonly keepaliveMs: number;
  private readonly secure: boolean;
  /** The WebSocket URL to dial (no userinfo: the login goes in CONNECT); undefined over TCP. */
  private readonly wsUrl: string | undefined;
  private readonly username: string | undefined;
  private readonly password: Buffer | undefined;
  private socket: Duplex | undefined;
  private up = false;
  private ending = false;
  private nextId = SUBSCRIBE_ID;
  private lastHeard = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /** The slow-consumer fault: ms each inbound publish is held before its PUBACK and the next read. */
  private slowMs = 0;
  /** Inbound publishes waiting while slow (the socket is paused meanwhile). */
  private readonly held: Packet[] = [];
  /** The wait before the next held publish while slow. */
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SessionOptions) {
    const u = new URL(opts.url);
    this.secure = MQTT_TLS_SCHEMES.includes(u.protocol);
    const ws = MQTT_WS_SCHEMES.includes(u.protocol);
    if (!this.secure && !ws && u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') throw new Error(`${redactUrl(opts.url)}: the pipeline dials mqtt://, tcp://, mqtts://, ws:// or wss:// brokers only`);
    if (ws) {
      const bare = new URL(u.href);
      bare.username = '';
      bare.password = '';
      this.wsUrl = bare.href;
    }
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = u.port ? Number(u.port) : mqttDefaultPort(u.protocol);
    this.username = u.username === '' ? undefined : decodeURIComponent(u.username);
    this.password = u.password === '' ? undefined : Buffer.from(decodeURIComponent(u.password));
    this.keepaliveMs = (opts.keepaliveS ?? 30) * 1000;
    this.dial();
  }

  get connected(): boolean {
    return this.up;
  }

  /** See `slowMs`; 0 turns it off. */
  setSlow(ms: number): void {
    this.slowMs = ms;
    if (ms > 0) return;
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.drain();
  }

  /** Runs `fn` with the socket corked: the publishes it makes leave in one write. */
  corked(fn: () => void): void {
    const socket = this.socket;
    socket?.cork();
    try {
      fn();
    } finally {
      socket?.uncork();
    }
  }

  /** A QoS 1 publish; false (nothing sent) while not connected. */
  publish(topic: string, payload: string): boolean {
    const socket = this.socket;
    if (!this.up || !socket) return false;
    this.nextId = this.nextId >= 0xffff ? SUBSCRIBE_ID + 1 : this.nextId + 1;
    socket.write(generate({ cmd: 'publish', topic, payload, qos: 1, dup: false, retain: false, messageId: this.nextId }));
    return true;
  }

  /** DISCONNECT, then the socket closes; no reconnect after. */
  async end(): Promise<void> {
    this.ending = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return this.stopTimers();
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end(DISCONNECT);
      // A broker that does not close its side: do not wait for it.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  /** A new connection to the broker, and how to hear that it is open (CONNECT goes then). */
  private open(): { socket: Duplex; onOpen: (fn: () => void) => void } {
    if (this.wsUrl !== undefined) {
      // ws sets TCP_NODELAY itself; wss checks the broker's certificate like mqtts:// below.
      const ws = new WebSocket(this.wsUrl, 'mqtt', { ...this.opts.tls, handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000 });
      return { socket: createWebSocketStream(ws), onOpen: (fn) => ws.once('open', fn) };
    }
    // TLS: the broker's certificate against the run's CA (or the system's) and its name; SNI only for a host name (RFC 6066 §3).
    const socket = this.secure
      ? connectTls({ host: this.host, port: this.port, ...this.opts.tls, ...(isIP(this.host) === 0 && { servername: this.host }) })
      : connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    return { socket, onOpen: (fn) => socket.once(this.secure ? 'secureConnect' : 'connect', fn) };
  }

  private dial(): void {
    const { socket, onOpen } = this.open();
    this.socket = socket;
    const parser = mqttParser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => this.onPacket(socket, p));
    parser.on('error', (err: Error) => {
      this.opts.onError(`bad packet from the broker: ${err.message}`);
      socket.destroy();
    });
    onOpen(() => {
      socket.write(generate({
        cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: this.opts.clientId, clean: false, keepalive: this.keepaliveMs / 1000,
        ...(this.username !== undefined && { username: this.username }), ...(this.password !== undefined && { password: this.password }),
      }));
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      // One write for the PUBACKs a chunk owes (a chunk holds many publishes under load).
      socket.cork();
      parser.parse(chunk);
      process.nextTick(() => socket.uncork());
    });
    socket.on('error', (err) => this.opts.onError(err.message));
    socket.on('close', () => this.onClose(socket));
    this.connectTimer = setTimeout(() => {
      this.opts.onError(`no CONNACK from ${this.opts.url} within ${this.opts.connectTimeoutMs ?? 10_000} ms`);
      socket.destroy();
    }, this.opts.connectTimeoutMs ?? 10_000);
  }

  private onPacket(socket: Duplex, p: Packet): void {
    switch (p.cmd) {
      case 'connack':
        clearTimeout(this.connectTimer);
        if ((p.returnCode ?? 0) !== 0) {
          this.opts.onError(`connection refused: return code ${String(p.returnCode)} [MQTT-3.2.2.3]`);
          socket.destroy();
          return;
        }
        this.up = true;
        this.startKeepalive(socket);
        this.opts.onConnect(p.sessionPresent);
        socket.write(generate({ cmd: 'subscribe', messageId: SUBSCRIBE_ID, subscriptions: [{ topic: this.opts.subscription, qos: 1 }] }));
        return;
      case 'suback':
        this.opts.onSubscribed(typeof p.granted[0] === 'number' ? p.granted[0] : undefined);
        return;
      case 'publish':
        if (this.slowMs > 0 || this.held.length > 0) {
          this.held.push(p);
          socket.pause();
          this.drain();
          return;
        }
        this.deliver(socket, p);
        return;
      default:
        // PUBACK of an ack, PINGRESP: hearing them is all (lastHeard).
        return;
    }
  }

  /** The message to the pipeline, then its PUBACK (QoS 1). */
  private deliver(socket: Duplex, p: Packet): void {
    if (p.cmd !== 'publish') return;
    this.opts.onMessage(p.topic, typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload);
    if (p.qos > 0 && p.messageId !== undefined && !socket.destroyed) socket.write(puback(p.messageId));
  }

  /** Held publishes: one every slowMs while slow, all at once when no longer; then reading resumes. */
  private drain(): void {
    const socket = this.socket;
    if (this.drainTimer || !socket) return;
    while (this.slowMs === 0 && this.held.length > 0) this.deliver(socket, this.held.shift()!);
    if (this.held.length === 0) {
      socket.resume();
      return;
    }
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      // The connection it was held on is gone: the broker resends it on the next one.
      if (socket !== this.socket) return;
      const next = this.held.shift();
      if (next) this.deliver(socket, next);
      this.drain();
    }, this.slowMs);
  }

  private startKeepalive(socket: Duplex): void {
    clearInterval(this.keepaliveTimer);
    this.lastHeard = Date.now();
    // A PINGREQ every half keepalive; nothing heard for 1.5 keepalives: the connection is dead.
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > this.keepaliveMs * 1.5) {
        this.opts.onError(`nothing from ${this.opts.url} for ${(this.keepaliveMs * 1.5) / 1000} s: reconnecting`);
        socket.destroy();
        return;
      }
      socket.write(PINGREQ);
    }, this.keepaliveMs / 2);
  }

  private stopTimers(): void {
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.drainTimer);
    clearTimeout(this.connectTimer);
    clearTimeout(this.reconnectTimer);
  }

  private onClose(socket: Duplex): void {
    if (socket !== this.socket) return;
    this.stopTimers();
    const wasUp = this.up;
    this.up = false;
    // Held publishes were never PUBACKed: the broker sends them again in the session.
    this.held.length = 0;
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    if (this.ending) return;
    if (wasUp) this.opts.onOffline();
    this.reconnectTimer = setTimeout(() => this.dial(), this.opts.reconnectMs ?? 1000);
  }
}
