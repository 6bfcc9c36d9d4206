/**
 * A lean device link: the same `DeviceLink` as mqtt-link.ts (read its header: client id = device
 * id, QoS 1 both ways, the first connection clean, later ones persistent), on node's bare TCP handle
 * (raw-tcp.ts; a `net.Socket` to a host name), for fleets where mqtt.js's per-client cost (streams,
 * stores, timers, a parser per client) is the bottleneck (issue 7). MQTT 3.1.1 over TCP (`mqtt://`,
 * `tcp://`) or over TLS (`mqtts://`, `ssl://`, `tls://`: `tls.connect` with the run's CA and client
 * certificate, the same framing on top).
 *
 * Per device: the socket, a framer, a few numbers, the topic part of its PUBLISH packets, and a map
 * of in-flight QoS 1 publishes that exists only once one was sent; CONNECT and SUBSCRIBE are encoded
 * with mqtt-packet at each dial. No timer per device while it is up: one sweep for
 * every lean link of the process (SWEEP_MS) sends PINGREQs, notices a dead keepalive and times out
 * connects. A timer exists only while a link waits to dial again (reconnectMs, or its backoff), as with mqtt.js.
 *
 * Incoming bytes are split by sim/network/framer.ts's hand framer rather than mqtt-packet's parser:
 * a device only ever receives CONNACK, SUBACK, PUBACK, PINGRESP and PUBLISH on its ack topic, read
 * in place here, while that parser is an EventEmitter with its own buffer list per connection and
 * an object (topic and payload copied) per packet.
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { generate, writeToStream } from 'mqtt-packet';
import { UPLINK_TOPIC_PREFIX, ackTopic, decodeAck, upTopic } from '../../protocol/uplink.ts';
import { MQTT_TLS_SCHEMES, mqttDefaultPort } from '../../protocol/tls.ts';
import { CONNACK, FramingError, MqttFramer, PINGRESP, PUBACK, PUBLISH, SUBACK, type PacketSink } from '../network/framer.ts';
import { writePuback } from '../network/replies.ts';
import { redialDelayMs } from './backoff.ts';
import { deviceCredentials } from '../../protocol/device-credentials.ts';
import { endpointNow, type DeviceLink, type Endpoint, type LinkEvents, type LinkOptions } from './link.ts';
import { keptBytes } from './kept-bytes.ts';
import { RawTcp, READ_BUFFER, rawTcpAvailable, type RawTcpOwner } from './raw-tcp.ts';

/**
 * mqtt-packet writes packet ids and lengths from a cache of 65,536 two-byte Buffers, built at its
 * first use: 6.9 MB of heap for a process whose lean links encode only a CONNECT and, at times, a
 * SUBSCRIBE per dial (0.46 KB per device of a 15,000-device fleet, issue 7). Off, as mqtt.js's own
 * `writeCache: false` turns it off: for the whole process, so its mqtt.js clients, if any, allocate
 * those two bytes per packet instead.
 */
writeToStream.cacheNumbers = false;

const PINGREQ_PACKET = Buffer.from([0xc0, 0x00]);
const DISCONNECT_PACKET = Buffer.from([0xe0, 0x00]);
/** Sent to flush owed PUBACKs alone. */
const EMPTY = Buffer.alloc(0);
/** SUBSCRIBE always uses packet id 1; PUBLISH ids cycle through 2..65535, skipping ids in flight. */
const SUBSCRIBE_ID = 1;
const MAX_INFLIGHT = 65_534;
/** As mqtt-link.ts's connectTimeout: a dial not up by then (CONNACK, and SUBACK when it subscribes) is dropped. */
const CONNECT_TIMEOUT_MS = 10_000;
/** The one keepalive sweep's period: a PINGREQ goes out within this of its due time. */
export const SWEEP_MS = 1000;
/**
 * How long a PUBACK owed for an ack may wait for a packet of the device's own to ride with, before
 * it goes out alone (within one more SWEEP_MS). Each lone PUBACK is a write of its own, a syscall
 * that runs the loopback's whole TCP path: with the 1 s this was before, a PSE unit, which reports
 * every 180 virtual s (5.6 s real at speed 32), wrote nearly every PUBACK alone — 1.75 writes per
 * publish for the 2021 replay's fleet at speed 32, 1.0 with 10 s (perf, 2026-12-01). MQTT sets no
 * deadline for a PUBACK [MQTT-4.3.2] and mosquitto and aedes never resend an unanswered delivery on
 * a live session; 10 s stays under the 30 s after which EMQX does (its `retry_interval`), and a
 * device holds one or two at a time, far under any broker's in-flight window (mosquitto's default 20).
 */
export const PUBACK_HOLD_MS = 10_000;

/** The broker refused the CONNECT: its CONNACK return code [MQTT-3.2.2.3]. */
export class ConnackError extends Error {
  override readonly name = 'ConnackError';
  constructor(readonly returnCode: number) {
    super(`Connection refused: return code ${returnCode} [MQTT-3.2.2.3]`);
  }
}

/** A link's phase, in order. */
const Phase = {
  /** No socket; a redial may be pending. */
  Down: 0,
  /** Socket dialled, CONNECT written, no CONNACK yet. */
  Dialling: 1,
  /** CONNACK accepted for a new session, SUBSCRIBE written, no SUBACK yet. */
  Connected: 2,
  /** SUBACK granted, or a resumed session's CONNACK: `connected` is true. */
  Up: 3,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

// ---- the keepalive sweep, shared by every lean link of the process ---------------------------------
const live = new Set<LeanLink>();
let sweeper: NodeJS.Timeout | undefined;

/**
 * The sweep itself runs from setImmediate, after the loop turn's I/O: a loop that stalled (a burst
 * of work, a GC) has by then read the PINGRESPs, CONNACKs and SUBACKs that arrived meanwhile, so
 * the simulator's own stall never reads as a silent broker. Run straight from the timer, a sweep
 * after a stall longer than the keepalive declares "Keepalive timeout" on a link whose answer sits
 * unread in its socket (lean-link.test.ts, "stalled event loop"): at speed 100 the keepalive is 3 s
 * real, and such a drop would silence its device for its redial backoff (1–4 s real, 100–400
 * virtual seconds) — late alarms the harness, not the pipeline, would have caused.
 */
function sweepAll(): void {
  const now = Date.now();
  for (const l of live) l.sweep(now);
}

function track(link: LeanLink): void {
  live.add(link);
  // unref: the sockets keep the process alive, not the sweep.
  sweeper ??= setInterval(() => setImmediate(sweepAll), SWEEP_MS).unref();
}

function untrack(link: LeanLink): void {
  live.delete(link);
  if (live.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/** What every ack of the pipeline starts with, and what sits between its device and its number (protocol/uplink.ts ackJson). */
const ACK_HEAD = Buffer.from('{"v":1,"device":"');
const ACK_MIDDLE = Buffer.from('","ack":');
/**
 * A device's topics are `vigil/v1/devices/<id>/up` and `…/<id>/ack` (protocol/uplink.ts). A link keeps
 * only its PUBLISH topic part (2-byte length, then the up topic; kept-bytes.ts): its id is read from
 * there (LeanLink.idAt).
 */
const TOPIC_PREFIX = Buffer.from(UPLINK_TOPIC_PREFIX);
const ACK_SUFFIX = Buffer.from('/ack');
const ID_AT = 2 + TOPIC_PREFIX.length;
const ID_AFTER = '/up'.length;

/** The byte length of the remaining-length field for `n` [MQTT-2.2.3]. */
const varIntLength = (n: number): number => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

class LeanLink implements DeviceLink, PacketSink, RawTcpOwner {
  /** The connection: node's TCP handle alone (raw-tcp.ts) for an address, a net or TLS socket else. */
  private socket: Socket | RawTcp | undefined;
  private framer: MqttFramer | undefined;
  private phase: Phase = Phase.Down;
  private closed = false;
  private redial: NodeJS.Timeout | undefined;
  private dialled = '';
  private host = '';
  private port = 0;
  private secure = false;
  /** When the current dial started (connect timeout). */
  private dialAt = 0;
  /** When the last packet was written (keepalive [MQTT-3.1.2-23]). */
  private lastOut = 0;
  /** When the unanswered PINGREQ went out; 0 when none is outstanding. */
  private pingAt = 0;
  private lastId = SUBSCRIBE_ID;
  /** Dials since the link was last up: the backoff's attempt. */
  private attempts = 0;
  /** QoS 1 PUBLISH packets awaiting their PUBACK, by packet id; undefined while there are none. */
  private inflight: Map<number, Buffer> | undefined;
  /** The callbacks of those that have one (a store-and-forward device has none): no object per publish. */
  private onSent: Map<number, () => void> | undefined;
  /**
   * PUBACKs owed for acks the broker delivered, not yet written: they ride with the next packet
   * this link writes, or go out alone at the first sweep a whole PUBACK_HOLD_MS after the first of
   * them. Each write to a loopback socket is a syscall that runs the whole TCP path, and in the
   * bench it was the largest cost (issue 7): a device that publishes, then gets its ack, writes once
   * per record, not twice.
   *
   * They are kept as packet ids, not as PUBACK Buffers: a 4-byte Buffer from Node's pool is a view
   * of a shared 8 KiB slab and keeps the whole slab alive while it waits (kept-bytes.ts).
   * `owedId` is the first (0 is none: a packet id is never 0 [MQTT-2.3.1-1]); `owedMore` holds any
   * after it, in the order they came.
   */
  private owedId = 0;
  private owedMore: number[] | undefined;
  private owedSince = 0;
  /** A CONNACK was had: sessions persist from then on (mqtt-link.ts's header). */
  private sessionKept = false;
  /**
   * The topic as PUBLISH carries it: 2-byte length, then UTF-8; the ack topic is checked against its
   * id. CONNECT and SUBSCRIBE are encoded at each dial rather than kept: a fleet holds 15,000 links,
   * and a dial is rare next to a publish (issue 7: ~0.5 KB per device). It is
   * `topicPart[topicAt, topicAt + topicLen)`, in an arena the fleet's links share (kept-bytes.ts).
   */
  private readonly topicPart: Buffer;
  private readonly topicAt: number;
  private readonly topicLen: number;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly deviceId: string,
    private readonly events: LinkEvents,
    private readonly opts: LinkOptions,
  ) {
    const topic = upTopic(deviceId);
    const topicLen = Buffer.byteLength(topic);
    const kept = keptBytes(2 + topicLen);
    this.topicPart = kept.bytes;
    this.topicAt = kept.at;
    this.topicLen = 2 + topicLen;
    this.topicPart.writeUInt16BE(topicLen, kept.at);
    this.topicPart.write(topic, kept.at + 2);
    track(this);
    this.dial();
  }

  private get keepaliveMs(): number {
    return this.opts.keepaliveS * 1000;
  }

  get connected(): boolean {
    return this.phase === Phase.Up;
  }

  publish(payload: Uint8Array | string, qos: 0 | 1, onSent?: () => void): void {
    let id = 0;
    if (qos === 1) {
      if ((this.inflight?.size ?? 0) >= MAX_INFLIGHT) {
        this.events.onError(new Error('no free MQTT packet id: 65,534 publishes await their PUBACK'));
        return;
      }
      id = this.nextId();
    }
    const topicLen = this.topicLen;
    const payloadLen = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const remaining = topicLen + (qos === 1 ? 2 : 0) + payloadLen;
    const packet = Buffer.allocUnsafe(1 + varIntLength(remaining) + remaining);
    packet[0] = qos === 1 ? 0x32 : 0x30;
    let at = 1;
    for (let n = remaining; ; ) {
      const b = n % 128;
      n = Math.floor(n / 128);
      packet[at++] = n > 0 ? b | 0x80 : b;
      if (n === 0) break;
    }
    this.topicPart.copy(packet, at, this.topicAt, this.topicAt + topicLen);
    at += topicLen;
    if (qos === 1) {
      packet.writeUInt16BE(id, at);
      at += 2;
    }
    if (typeof payload === 'string') packet.write(payload, at);
    else packet.set(payload, at);
    if (qos === 1) {
      // Kept until its PUBACK, and sent again after a reconnect [MQTT-4.4.0-1], as mqtt.js does
      // (it queues a publish made while offline the same way).
      (this.inflight ??= new Map()).set(id, packet);
      if (onSent) (this.onSent ??= new Map()).set(id, onSent);
      if (this.phase >= Phase.Connected) this.send(packet);
    } else if (this.phase >= Phase.Connected) {
      this.send(packet, onSent);
    }
  }

  reconnect(): void {
    // Like a device dropping its TCP session: down at once (nothing more is published on it; writing
    // to a destroyed socket costs an error object per publish), then the redial after the backoff.
    const s = this.socket;
    if (!s) return;
    this.onClose(s);
    s.destroy();
  }

  close(): Promise<void> {
    this.closed = true;
    untrack(this);
    clearTimeout(this.redial);
    this.redial = undefined;
    const s = this.socket;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      if (s instanceof RawTcp) closing.set(s, resolve);
      else s.once('close', () => resolve());
      if (this.phase >= Phase.Connected) s.write(DISCONNECT_PACKET);
      s.destroySoon();
      // A socket whose peer vanished may never flush: do not let close() hang on it.
      setTimeout(() => s.destroy(), 2000).unref();
    });
  }

  /** Called by the shared sweep, every SWEEP_MS. */
  sweep(now: number): void {
    if (this.phase === Phase.Down) return;
    if (this.owedId !== 0 && now - this.owedSince >= (this.opts.pubackHoldMs ?? PUBACK_HOLD_MS)) this.send(EMPTY);
    if (this.phase < Phase.Up) {
      if (now - this.dialAt >= CONNECT_TIMEOUT_MS) this.socket?.destroy();
      return;
    }
    if (this.keepaliveMs === 0) return;
    if (this.pingAt !== 0) {
      // As mqtt.js: no answer to a PINGREQ within a keepalive period is a dead connection.
      if (now - this.pingAt >= this.keepaliveMs) {
        this.events.onError(new Error('Keepalive timeout'));
        this.socket?.destroy();
      }
      return;
    }
    // A packet must go out within every keepalive period [MQTT-3.1.2-23]: ping a sweep early.
    if (now - this.lastOut >= this.keepaliveMs - SWEEP_MS) {
      this.send(PINGREQ_PACKET);
      this.pingAt = now;
    }
  }

  /** One whole incoming packet (PacketSink, from the framer). */
  packet(buf: Buffer, type: number, flags: number, _start: number, body: number, end: number): void {
    // Any packet from the broker proves the path is alive.
    this.pingAt = 0;
    if (end - body < 2 && type !== PINGRESP) throw new FramingError(`packet type ${type} too short`);
    switch (type) {
      case PUBLISH:
        this.onPublish(buf, flags, body, end);
        return;
      case PUBACK: {
        const id = buf.readUInt16BE(body);
        const inflight = this.inflight;
        if (!inflight?.delete(id)) return;
        // An empty map is let go: a device is between publishes nearly all the time, and a Map
        // kept for it is ~180 bytes of a fleet's 15,000 (issue 7); the next publish makes one.
        if (inflight.size === 0) this.inflight = undefined;
        const onSent = this.onSent?.get(id);
        if (onSent) {
          this.onSent?.delete(id);
          if (this.onSent?.size === 0) this.onSent = undefined;
          onSent();
        }
        return;
      }
      case CONNACK:
        // Connect acknowledge flags, then the return code [MQTT-3.2.2]; bit 0 is Session Present.
        this.onConnack(buf[body + 1] as number, ((buf[body] as number) & 1) === 1);
        return;
      case SUBACK:
        if (buf.readUInt16BE(body) !== SUBSCRIBE_ID || this.phase !== Phase.Connected) return;
        if (end - body < 3 || buf[body + 2] === 0x80) {
          // Refused [MQTT-3.9.3]: without its ack topic the device cannot work; drop and retry.
          this.events.onError(new Error(`subscription to ${ackTopic(this.deviceId)} refused`));
          this.socket?.destroy();
          return;
        }
        this.up();
        return;
      default:
        // PINGRESP (pingAt is cleared above); nothing else is sent to a client that only publishes
        // at QoS ≤ 1 and subscribes at QoS 1.
        return;
    }
  }

  /**
   * A resumed session keeps its subscriptions [MQTT-3.2.2-2], so the ack topic is subscribed again
   * only when the broker says it has none (a first, clean connection; a broker that lost its
   * sessions): what mqtt.js does with `resubscribe`. In a reconnect storm that is one write and one
   * read less per dial on both sides, and the device is up a round trip sooner.
   */
  private onConnack(returnCode: number, sessionPresent: boolean): void {
    if (this.phase !== Phase.Dialling) return;
    if (returnCode !== 0) {
      this.events.onError(new ConnackError(returnCode));
      this.socket?.destroy();
      return;
    }
    // Trusted only when this CONNECT asked to resume: a clean one starts with no session [MQTT-3.2.2-1].
    const resumed = this.sessionKept && sessionPresent;
    this.phase = Phase.Connected;
    this.sessionKept = true;
    if (!resumed) this.send(generate({ cmd: 'subscribe', messageId: SUBSCRIBE_ID, subscriptions: [{ topic: ackTopic(this.deviceId), qos: 1 }] }));
    if (this.inflight) {
      for (const packet of this.inflight.values()) {
        packet[0] = (packet[0] as number) | 0x08; // DUP [MQTT-3.3.1-1]
        this.send(packet);
      }
    }
    if (resumed) this.up();
  }

  private up(): void {
    this.phase = Phase.Up;
    this.attempts = 0;
    this.events.onUp();
  }

  private onPublish(buf: Buffer, flags: number, body: number, end: number): void {
    const qos = (flags >> 1) & 3;
    const topicLen = buf.readUInt16BE(body);
    const topicEnd = body + 2 + topicLen;
    const payloadAt = topicEnd + (qos > 0 ? 2 : 0);
    if (payloadAt > end) throw new FramingError('PUBLISH header past end of packet');
    if (qos === 1) {
      const id = buf.readUInt16BE(topicEnd);
      if (this.owedId !== 0) (this.owedMore ??= []).push(id);
      else {
        this.owedId = id;
        this.owedSince = Date.now();
      }
    } else if (qos === 2) {
      // Never granted: the ack topic is subscribed at QoS 1 [MQTT-3.8.4-6].
      throw new FramingError('PUBLISH at QoS 2 on a QoS 1 subscription');
    }
    if (!this.isAckTopic(buf, body + 2, topicEnd)) return;
    const n = this.ackInPlace(buf, payloadAt, end);
    if (n >= 0) {
      this.events.onAck(n);
      return;
    }
    try {
      this.events.onAck(decodeAck(buf.subarray(payloadAt, end)).ack);
    } catch (err) {
      this.events.onError(err as Error);
    }
  }

  /** Whether buf[at, at + the id's length) is this link's device id, as its topic part holds it. */
  private idAt(buf: Buffer, at: number): boolean {
    const from = this.topicAt + ID_AT;
    return this.topicPart.compare(buf, at, at + this.idLen, from, from + this.idLen) === 0;
  }

  private get idLen(): number {
    return this.topicLen - ID_AT - ID_AFTER;
  }

  /** Whether buf[at, end) is this device's ack topic. */
  private isAckTopic(buf: Buffer, at: number, end: number): boolean {
    if (end - at !== TOPIC_PREFIX.length + this.idLen + ACK_SUFFIX.length) return false;
    const idAt = at + TOPIC_PREFIX.length;
    return TOPIC_PREFIX.compare(buf, at, idAt) === 0 && this.idAt(buf, idAt) && ACK_SUFFIX.compare(buf, idAt + this.idLen, end) === 0;
  }

  /**
   * The number of an ack exactly as the pipeline writes it, `{"v":1,"device":"<this device>","ack":N}`,
   * read in place from the packet; -1 for any other payload, which decodeAck then reads and checks.
   * A device gets an ack a record: this saves a string, a JSON.parse and its object per ack (issue 7).
   */
  private ackInPlace(buf: Buffer, at: number, end: number): number {
    let i = at + ACK_HEAD.length;
    if (end - at < ACK_HEAD.length + this.idLen + ACK_MIDDLE.length + 2) return -1;
    if (ACK_HEAD.compare(buf, at, i) !== 0 || !this.idAt(buf, i)) return -1;
    i += this.idLen;
    if (ACK_MIDDLE.compare(buf, i, i + ACK_MIDDLE.length) !== 0) return -1;
    i += ACK_MIDDLE.length;
    if (buf[end - 1] !== 0x7d || end - 1 - i > 15) return -1; // '}', and a safe integer's digits at most
    let n = 0;
    for (; i < end - 1; i++) {
      const d = (buf[i] as number) - 0x30;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    return Number.isSafeInteger(n) ? n : -1;
  }

  private nextId(): number {
    let id = this.lastId;
    do id = id >= 65_535 ? SUBSCRIBE_ID + 1 : id + 1;
    while (this.inflight?.has(id));
    this.lastId = id;
    return id;
  }

  private send(packet: Buffer, onWritten?: () => void): void {
    this.lastOut = Date.now();
    if (this.owedId !== 0) {
      // The owed PUBACKs first, in the order their PUBLISHes came [MQTT-4.6.0-2], then the packet.
      const more = this.owedMore;
      const acks = 4 * (1 + (more?.length ?? 0));
      const out = Buffer.allocUnsafe(acks + packet.length);
      writePuback(out, 0, this.owedId);
      more?.forEach((id, i) => writePuback(out, 4 * (i + 1), id));
      packet.copy(out, acks);
      packet = out;
      this.owedId = 0;
      this.owedMore = undefined;
    }
    const done = onWritten && ((err?: Error | null): void => {
      if (!err) onWritten();
    });
    const s = this.socket;
    if (s instanceof RawTcp) s.write(packet, done);
    else s?.write(packet, done);
  }

  // The link's callbacks are its methods, bound when first needed with `bind`, not arrows or
  // closures made at each dial. Vigil runs under tsx, whose esbuild transform keeps function names
  // (`keepNames`): every named arrow or function expression gets its name redefined as it is made,
  // which puts the function's properties in a dictionary — 361 bytes of heap for such a closure
  // against 105 without (measured). A bound function gets no such call. The closures these
  // replace (an arrow `dialNow`, and at each dial a `read` closure and the `onread` callback) were
  // ~0.8 KB of heap per device (issue 7; docs/PERFORMANCE.md). Most links never redial, and only a
  // TLS one reads 'data'; reads of a plain connection come to `rawRead` or `onSocketRead`, below.
  /** dial(): handed to a timer or the pacer at every redial. */
  private dialNow: (() => void) | undefined;
  /** The TLS socket's reads, which come as 'data' chunks. */
  private onData: ((chunk: Buffer) => void) | undefined;

  /** `n` bytes of `s` in the process's READ_BUFFER (RawTcpOwner; net's `onread` too). */
  rawRead(s: RawTcp | Socket, buf: Buffer, n: number): void {
    if (s === this.socket) this.read(buf.subarray(0, n));
  }

  /** RawTcpOwner: as a socket's 'error'. */
  rawError(_s: RawTcp, err: Error): void {
    this.socketError(err);
  }

  /** RawTcpOwner: as a socket's 'close'. */
  rawClosed(s: RawTcp): void {
    this.onClose(s);
    const resolve = closing.get(s);
    if (resolve) {
      closing.delete(s);
      resolve();
    }
  }

  /**
   * A chunk of the current socket. Only the current one reads: a socket is destroyed as it stops
   * being `this.socket` (reconnect, onClose), and a destroyed socket reads no more.
   */
  private read(chunk: Buffer): void {
    const s = this.socket;
    if (!s) return;
    try {
      (this.framer as MqttFramer).push(chunk, this);
    } catch (err) {
      this.events.onError(err as Error);
      s.destroy();
    }
  }

  private dial(): void {
    this.redial = undefined;
    if (this.closed || this.socket) return;
    // Asked again at every dial: an endpoint move is followed from the next dial (mqtt-link.ts).
    const endpoint = endpointNow(this.endpoint);
    if (endpoint !== this.dialled) {
      let url: URL;
      try {
        url = new URL(endpoint);
        if (url.protocol !== 'mqtt:' && url.protocol !== 'tcp:' && !MQTT_TLS_SCHEMES.includes(url.protocol)) throw new Error(`the lean link speaks mqtt:// and mqtts:// only, not ${url.protocol}`);
      } catch (err) {
        this.events.onError(err as Error);
        this.scheduleDial();
        return;
      }
      this.dialled = endpoint;
      this.host = sharedHost(url.hostname);
      this.port = Number(url.port || mqttDefaultPort(url.protocol));
      this.secure = MQTT_TLS_SCHEMES.includes(url.protocol);
    }
    // TLS: the broker's certificate is checked against the run's CA (or the system's) and its name;
    // servername only for a host name (SNI takes no IP address, RFC 6066 §3). Plain TCP: reads land
    // in one buffer shared by every lean link of the process (READ_BUFFER) — no Buffer allocated per
    // read, no 'data' event through a socket's Readable; the framer copies what it keeps of a chunk
    // (sim/network/framer.ts). To an address, the connection is node's TCP handle alone (raw-tcp.ts:
    // ~0.9 KB of heap a device less than a net.Socket, measured); to a name, which needs a lookup, a
    // net.Socket. A TLS socket decrypts into buffers of its own: read from 'data'.
    let s: Socket | RawTcp;
    if (this.secure) {
      s = connectTls({ host: this.host, port: this.port, ...this.opts.tls, ...(isIP(this.host) === 0 && { servername: this.host }) }).setNoDelay(true);
      s.on('data', (this.onData ??= this.read.bind(this)));
    } else if (rawTcpAvailable(this.host)) {
      s = new RawTcp(this.host, this.port, this);
    } else {
      s = connect({ host: this.host, port: this.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: onSocketRead } });
    }
    this.socket = s;
    this.framer = new MqttFramer();
    this.phase = Phase.Dialling;
    this.dialAt = Date.now();
    this.pingAt = 0;
    // Written at once: net buffers it until the TCP handshake completes.
    // The first CONNECT asks for a clean session; later ones resume it (mqtt-link.ts's header).
    // The login is derived at each dial from the run's secret (a dial is rare), not kept per link.
    const o = this.opts;
    const login = o.deviceSecret === undefined ? undefined : deviceCredentials(o.deviceSecret, this.deviceId);
    this.send(generate({
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: !this.sessionKept, clientId: this.deviceId, keepalive: o.keepaliveS,
      ...(login && { username: login.username, password: Buffer.from(login.password) }),
    }));
    // Socket errors carry a code (ECONNREFUSED…): reported as mqtt.js reports them; 'close' follows.
    if (s instanceof RawTcp) return;
    (s as LinkSocket)[LINK_OF_SOCKET] = this;
    s.on('error', onSocketError);
    s.on('close', onSocketClose);
  }

  /** An error on `s`, one of this link's sockets. */
  socketError(err: Error): void {
    this.events.onError(err);
  }

  /** `s`, one of this link's sockets, closed (or is dropped): the link is down if `s` is its current one. */
  onClose(s: Socket | RawTcp): void {
    if (s !== this.socket) return;
    const wasUp = this.phase === Phase.Up;
    this.socket = undefined;
    this.framer = undefined;
    // PUBACKs owed on a dead session are moot: the broker redelivers those acks on the next one.
    this.owedId = 0;
    this.owedMore = undefined;
    this.phase = Phase.Down;
    if (wasUp) this.events.onDown();
    this.scheduleDial();
  }

  private scheduleDial(): void {
    if (this.closed || this.redial) return;
    const { backoff, pacer } = this.opts;
    const delay = backoff ? redialDelayMs(backoff, this.deviceId, this.attempts) : this.opts.reconnectMs;
    this.attempts++;
    const dialNow = (this.dialNow ??= this.dial.bind(this));
    this.redial = setTimeout(pacer ? () => pacer.request(dialNow) : dialNow, delay);
  }
}

/**
 * The host a link dials, one string for every link that dials the same one: a URL's `hostname` is a
 * new string each time, 32 bytes on each of a fleet's 15,000 links (issue 7).
 */
let lastHost = '';
function sharedHost(host: string): string {
  if (host !== lastHost) lastHost = host;
  return lastHost;
}

/** Closing links' connections, each with the close() waiting for it: no field on every link for it. */
const closing = new Map<RawTcp, () => void>();

/**
 * A net socket's 'error' and 'close' listeners and its `onread` callback are these module functions
 * (node calls them with the socket as `this`), which find their link on the socket: not arrows and
 * their context made at each dial and kept while it lasts: ~130 bytes a device, measured (issue 7).
 */
const LINK_OF_SOCKET = Symbol('lean link');
type LinkSocket = Socket & { [LINK_OF_SOCKET]?: LeanLink };

function onSocketError(this: LinkSocket, err: Error): void {
  this[LINK_OF_SOCKET]?.socketError(err);
}

function onSocketClose(this: LinkSocket): void {
  this[LINK_OF_SOCKET]?.onClose(this);
}

function onSocketRead(this: LinkSocket, n: number, buf: Uint8Array): boolean {
  this[LINK_OF_SOCKET]?.rawRead(this, buf as Buffer, n);
  return true;
}

/**
 * `endpoint` is asked again before every dial, as in mqtt-link.ts. Same events, same session rules.
 */
export function leanLink(endpoint: Endpoint, deviceId: string, events: LinkEvents, opts: LinkOptions): DeviceLink {
  return new LeanLink(endpoint, deviceId, events, opts);
}
