/**
 * One device connection through the operator proxy: the device's socket, the broker-side socket
 * opened once the CONNECT is read and allowed, and the effects of the device's policy.
 *
 * Upstream (device → broker) is framed into MQTT packets so each decision — forward, drop, forge a
 * reply, stall — is taken per whole packet; consecutive forwarded packets of one chunk leave in one
 * write. Downstream (broker → device) is passed through as it comes: no effect needs its packets.
 */
import { connect, type Socket } from 'node:net';
import { parser as mqttParser, type Packet } from 'mqtt-packet';
import { DelayLine } from './delay-line.ts';
import { NO_EFFECT, type Fault, type Policy } from './effects.ts';
import type { CloseReason, MutableProxyStats, NetworkEventDetail } from './events.ts';
import {
  CONNECT,
  FramingError,
  MqttFramer,
  PINGREQ,
  PUBLISH,
  PUBREL,
  SUBSCRIBE,
  UNSUBSCRIBE,
  leadingPacketId,
  publishPacketId,
  topicFilterCount,
  uplinkPayloadStart,
  type PacketSink,
} from './framer.ts';
import { connack, pingresp, puback, pubcomp, pubrec, suback, unsuback, type FakeReply } from './replies.ts';

/** What a connection needs from its proxy. */
export interface ConnectionHost {
  readonly upstream: { readonly host: string; readonly port: number };
  readonly stats: MutableProxyStats;
  /** Undefined when nobody listens: the proxy then skips even the topic check. */
  readonly onUplink: ((deviceId: string, payload: Buffer) => void) | undefined;
  emit(conn: Connection, e: NetworkEventDetail): void;
  /** The connection now knows its device: index it, and return the device's policy. */
  identify(conn: Connection): Policy;
  /** The connection is closed. */
  forget(conn: Connection): void;
  /** Uniform in [0, 1), seeded. */
  random(): number;
  /** Real ms, monotonic. */
  realNow(): number;
  /** virtual s per real s */
  readonly speed: number;
}

/** The CONNECT, parsed by mqtt-packet: once per connection, so its allocations do not matter. */
function parseConnect(bytes: Buffer): { clientId: string; protocolVersion: number; clean: boolean } {
  const p = mqttParser();
  let packet: Packet | undefined;
  let error: unknown;
  p.on('packet', (x) => (packet = x));
  p.on('error', (e) => (error = e));
  p.parse(bytes);
  if (error !== undefined) throw new FramingError(`bad CONNECT: ${(error as Error).message}`);
  if (packet?.cmd !== 'connect') throw new FramingError('bad CONNECT');
  return { clientId: packet.clientId, protocolVersion: packet.protocolVersion ?? 4, clean: packet.clean ?? true };
}

export class Connection implements PacketSink {
  deviceId: string | undefined;
  /** Set by the proxy whenever the device's effects change. */
  policy: Policy = NO_EFFECT;
  private v5 = false;
  /** The CONNECT asked for a clean session: a forged CONNACK then says no session is present. */
  private clean = true;
  private upstream: Socket | undefined;
  /** The broker closed its side while the device must not notice. */
  private upstreamGone = false;
  /** Black hole or lost NAT mapping: every byte both ways vanishes until the device closes. */
  private silencedBy: Fault | undefined;
  /** MTU black hole: the upstream direction vanishes until close. */
  private stalledBy: Fault | undefined;
  private lastActive: number;
  private readonly framer = new MqttFramer();
  /** Forwarded packets of the current chunk, written together. */
  private runBuf: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;
  private upLine: DelayLine | undefined;
  private downLine: DelayLine | undefined;
  private upBlocked = false;
  private downBlocked = false;
  /** Closing: ignore whatever still arrives. */
  private done = false;
  private closeReason: CloseReason = 'device';
  private deviceError: string | undefined;

  constructor(
    readonly id: number,
    private readonly device: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.lastActive = host.realNow();
    device.on('data', this.onDeviceData);
    device.on('error', (err: NodeJS.ErrnoException) => (this.deviceError = err.code ?? err.message));
    device.once('close', this.onDeviceClose);
  }

  // ---- device → broker ----

  // The socket handlers are methods bound once per connection, not arrow fields: under tsx (keepNames)
  // each arrow field costs 256 bytes more per connection (sim/transport/lean-link.ts, on `dialNow`).
  private readonly onDeviceData: (chunk: Buffer) => void = this.deviceData.bind(this);
  private deviceData(chunk: Buffer): void {
    if (this.done) return;
    this.checkNat();
    try {
      this.framer.push(chunk, this);
      this.flushRun();
    } catch (err) {
      // Malformed input, or a bug on this connection's path: lose the connection, not the process.
      this.malformed(err instanceof Error ? err.message : String(err));
    }
  }

  packet(buf: Buffer, type: number, flags: number, start: number, bodyStart: number, end: number): void {
    if (this.done) return;
    if (this.deviceId === undefined) {
      this.onConnect(buf, type, flags, start, bodyStart, end);
      return;
    }
    this.decide(buf, type, flags, start, bodyStart, end);
  }

  private onConnect(buf: Buffer, type: number, flags: number, start: number, bodyStart: number, end: number): void {
    if (type !== CONNECT) throw new FramingError(`first packet is type ${type}, not CONNECT [MQTT-3.1.0-1]`);
    const c = parseConnect(buf.subarray(start, end));
    this.v5 = c.protocolVersion === 5;
    this.clean = c.clean;
    this.deviceId = c.clientId;
    this.policy = this.host.identify(this);
    this.host.emit(this, { type: 'identified', protocolVersion: c.protocolVersion });
    const p = this.policy;
    if (p.refuse !== undefined) {
      this.host.stats.refused++;
      this.reset(p.refuse, p.refuse.effect.kind === 'partition' ? 'partition' : 'refuse');
      return;
    }
    // Under a black hole or ack-then-lose the broker never hears of this connection.
    if (p.blackHole === undefined && p.ackThenLose === undefined) this.openUpstream();
    this.decide(buf, type, flags, start, bodyStart, end);
  }

  private decide(buf: Buffer, type: number, flags: number, start: number, bodyStart: number, end: number): void {
    const p = this.policy;
    const len = end - start;
    if (p.blackHole !== undefined && this.silencedBy === undefined) this.hole(p.blackHole);
    const lostTo = this.silencedBy ?? this.stalledBy;
    if (lostTo !== undefined) {
      this.dropUp(lostTo, len);
      return;
    }
    if (p.ackThenLose !== undefined) {
      this.dropUp(p.ackThenLose, len);
      this.answer(p.ackThenLose, buf, type, flags, bodyStart, end);
      return;
    }
    if (p.mtu !== undefined && len > p.mtu.maxBytes) {
      // Retransmitted forever in a real MTU black hole: nothing behind it gets through either.
      this.stalledBy = p.mtu.fault;
      p.mtu.fault.stats.stalls++;
      this.host.stats.stalls++;
      this.host.emit(this, { type: 'stall', faultId: p.mtu.fault.id, packetBytes: len, maxBytes: p.mtu.maxBytes });
      this.dropUp(p.mtu.fault, len);
      return;
    }
    const onUplink = this.host.onUplink;
    if (type === PUBLISH && onUplink !== undefined) {
      const at = uplinkPayloadStart(buf, flags, bodyStart, end, this.v5);
      if (at >= 0) onUplink(this.deviceId!, buf.subarray(at, end));
    }
    for (const f of p.counted) {
      f.stats.packetsForwarded++;
      f.stats.bytesForwarded += len;
    }
    this.host.stats.packetsUp++;
    if (this.runBuf === buf && this.runEnd === start) {
      this.runEnd = end;
      return;
    }
    this.flushRun();
    this.runBuf = buf;
    this.runStart = start;
    this.runEnd = end;
  }

  /** ack-then-lose: what the broker would have answered, forged by the operator gateway. */
  private answer(fault: Fault, buf: Buffer, type: number, flags: number, bodyStart: number, end: number): void {
    let reply: Buffer;
    let kind: FakeReply;
    let packetId: number | undefined;
    switch (type) {
      case CONNECT:
        reply = connack(this.v5, !this.clean);
        kind = 'connack';
        break;
      case PUBLISH: {
        const qos = (flags >> 1) & 3;
        if (qos === 0) return;
        packetId = publishPacketId(buf, bodyStart, end);
        reply = qos === 1 ? puback(packetId) : pubrec(packetId);
        kind = qos === 1 ? 'puback' : 'pubrec';
        break;
      }
      case PUBREL:
        packetId = leadingPacketId(buf, bodyStart, end);
        reply = pubcomp(packetId);
        kind = 'pubcomp';
        break;
      case SUBSCRIBE:
        packetId = leadingPacketId(buf, bodyStart, end);
        reply = suback(packetId, topicFilterCount(buf, bodyStart, end, this.v5, 1), this.v5);
        kind = 'suback';
        break;
      case UNSUBSCRIBE:
        packetId = leadingPacketId(buf, bodyStart, end);
        reply = unsuback(packetId, topicFilterCount(buf, bodyStart, end, this.v5, 0), this.v5);
        kind = 'unsuback';
        break;
      case PINGREQ:
        reply = pingresp();
        kind = 'pingresp';
        break;
      default:
        return; // PUBACK, PUBREC, PUBCOMP for downlink messages, DISCONNECT, AUTH: swallowed
    }
    this.device.write(reply);
    fault.stats.fakeReplies[kind]++;
    this.host.stats.fakeReplies++;
    this.host.emit(this, { type: 'fake-reply', faultId: fault.id, packet: kind, packetId });
  }

  private flushRun(): void {
    const buf = this.runBuf;
    if (buf === undefined) return;
    this.runBuf = undefined;
    if (this.done) return;
    this.sendUp(buf.subarray(this.runStart, this.runEnd));
  }

  private sendUp(bytes: Buffer): void {
    const up = this.upstream;
    if (up === undefined || this.upstreamGone) {
      // Nothing listens on the broker side any more: its kernel would answer with a RST.
      this.closeReason = 'upstream';
      this.abort(true);
      return;
    }
    this.host.stats.bytesUp += bytes.length;
    const p = this.policy;
    if (p.shaping || (this.upLine !== undefined && this.upLine.length > 0)) {
      (this.upLine ??= this.delayLine(up)).push(bytes, p);
      return;
    }
    if (!up.write(bytes) && !this.upBlocked) {
      this.upBlocked = true;
      this.device.pause();
      up.once('drain', () => {
        this.upBlocked = false;
        this.device.resume();
      });
    }
  }

  private dropUp(fault: Fault, bytes: number): void {
    fault.stats.packetsDropped++;
    fault.stats.bytesDropped += bytes;
    this.host.stats.packetsDropped++;
    this.host.stats.bytesDropped += bytes;
  }

  // ---- broker → device ----

  private openUpstream(): void {
    const up = connect({ host: this.host.upstream.host, port: this.host.upstream.port, noDelay: true });
    this.upstream = up;
    up.on('data', this.onUpstreamData);
    up.on('error', (err) => {
      this.host.stats.upstreamErrors++;
      this.host.emit(this, { type: 'upstream-error', message: err.message });
    });
    up.once('close', this.onUpstreamClose);
  }

  private readonly onUpstreamData: (chunk: Buffer) => void = this.upstreamData.bind(this);
  private upstreamData(chunk: Buffer): void {
    if (this.done) return;
    this.checkNat();
    const p = this.policy;
    if (p.blackHole !== undefined && this.silencedBy === undefined) this.hole(p.blackHole);
    const lostTo = this.silencedBy ?? p.ackThenLose;
    if (lostTo !== undefined) {
      lostTo.stats.bytesDropped += chunk.length;
      this.host.stats.bytesDropped += chunk.length;
      return;
    }
    for (const f of p.counted) f.stats.bytesForwarded += chunk.length;
    this.host.stats.bytesDown += chunk.length;
    if (p.shaping || (this.downLine !== undefined && this.downLine.length > 0)) {
      (this.downLine ??= this.delayLine(this.device)).push(chunk, p);
      return;
    }
    if (!this.device.write(chunk) && !this.downBlocked) {
      this.downBlocked = true;
      this.upstream?.pause();
      this.device.once('drain', () => {
        this.downBlocked = false;
        this.upstream?.resume();
      });
    }
  }

  private readonly onUpstreamClose: () => void = this.upstreamClose.bind(this);
  private upstreamClose(): void {
    if (this.done) return;
    const p = this.policy;
    if (p.blackHole !== undefined && this.silencedBy === undefined) this.hole(p.blackHole);
    if (this.silencedBy !== undefined || p.ackThenLose !== undefined) {
      // The broker's FIN is lost like every other byte: the device must find out by itself.
      this.upstreamGone = true;
      this.host.emit(this, { type: 'upstream-lost' });
      return;
    }
    this.closeReason = 'upstream';
    if (this.downLine !== undefined && this.downLine.length > 0) this.downLine.onEmpty = () => this.device.end();
    else this.device.end();
  }

  // ---- both ways ----

  /** A NAT forgets a mapping idle too long; found out lazily, by the next byte either way (no timer). */
  private checkNat(): void {
    const now = this.host.realNow();
    const nat = this.policy.natIdle;
    if (nat !== undefined && this.silencedBy === undefined && now - this.lastActive >= nat.idleRealMs) {
      this.silencedBy = nat.fault;
      nat.fault.stats.natExpiries++;
      this.host.stats.natExpiries++;
      this.host.emit(this, { type: 'nat-expired', faultId: nat.fault.id, idleMs: (now - this.lastActive) * this.host.speed });
    }
    this.lastActive = now;
  }

  private hole(fault: Fault): void {
    this.silencedBy = fault;
    this.host.emit(this, { type: 'black-holed', faultId: fault.id });
  }

  private delayLine(dst: Socket): DelayLine {
    return new DelayLine(
      (buf) => {
        if (!dst.destroyed) dst.write(buf);
      },
      this.host.random,
      this.host.realNow,
    );
  }

  /** refuse, partition, reset: RST to the device, the broker side closed. */
  reset(fault: Fault, cause: 'refuse' | 'partition' | 'reset'): void {
    if (this.done) return;
    fault.stats.resets++;
    this.host.stats.resets++;
    this.host.emit(this, { type: 'reset', faultId: fault.id, cause });
    this.closeReason = 'fault';
    this.abort(true);
  }

  /** ack-then-lose healed: close, so the device reconnects through the healed path and resends. */
  closeAfterHeal(fault: Fault): void {
    if (this.done) return;
    fault.stats.healCloses++;
    this.host.stats.healCloses++;
    this.closeReason = 'heal';
    this.abort(false);
  }

  close(): void {
    if (this.done) return;
    this.closeReason = 'proxy';
    this.abort(false);
  }

  private malformed(message: string): void {
    if (this.done) return;
    this.host.stats.malformed++;
    this.host.emit(this, { type: 'malformed', message });
    this.closeReason = 'malformed';
    this.abort(false);
  }

  private abort(rst: boolean): void {
    this.done = true;
    this.runBuf = undefined;
    if (rst) this.device.resetAndDestroy();
    else this.device.destroy();
    this.upstream?.destroy();
  }

  private readonly onDeviceClose: (hadError: boolean) => void = this.deviceClose.bind(this);
  private deviceClose(hadError: boolean): void {
    this.done = true;
    this.downLine?.clear();
    const up = this.upstream;
    if (up !== undefined && this.closeReason === 'device' && !hadError && this.silencedBy === undefined && this.policy.ackThenLose === undefined) {
      // A clean close passes on as a FIN once queued bytes are out: a DISCONNECT still in flight
      // must reach the broker, or it would publish the device's will.
      if (this.upLine !== undefined && this.upLine.length > 0) this.upLine.onEmpty = () => up.end();
      else up.end();
    } else {
      this.upLine?.clear();
      up?.destroy();
    }
    this.host.forget(this);
    this.host.emit(this, { type: 'close', reason: this.closeReason, error: this.deviceError });
  }
}
