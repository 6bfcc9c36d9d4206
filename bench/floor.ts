/**
 * The floor of `npm run bench`: the most this machine can do with one connection per device —
 * pre-encoded PUBLISH bytes written straight to raw sockets, no MQTT client, no device model. The
 * sockets are node's bare TCP handles (sim/transport/raw-tcp.ts), as the lean link's are: the floor
 * is what the cheapest connection Vigil has can do, so b/c compares like with like.
 *
 * Same wire work as the baseline, nothing more: CONNECT once (clean session), then one QoS 1
 * PUBLISH of a one-record position batch per device per second, the broker's PUBACKs read and
 * counted. Each device's packet is encoded once; per send only its packet id and the 13 digits of
 * its `time` field are patched in place (so the acker can measure publish-to-ingest latency). All
 * devices share one 20 ms tick that writes, in each tick, the devices whose phase falls in it:
 * nothing else a fleet could do per message is cheaper than one write syscall.
 *
 * With `acked` (contender (d), "the acked floor"): the same, plus the wire work PROTOCOL.md adds for
 * a Vigil device and nothing else — it subscribes to its ack topic (QoS 1) at each connect, reads the
 * pipeline's application ack for each batch (bench/acker.ts sends them) and owes the broker a PUBACK
 * for it, which rides in front of its next PUBLISH in the same write, as the lean link's does
 * (sim/transport/lean-link.ts). No model, no outbox, no resend: the least any fleet that speaks
 * Vigil's protocol can spend per message on this machine, so that the bars can be read against it.
 *
 *   node --import tsx bench/floor.ts '<BenchParams JSON>' [acked]   (run by fleet.bench.ts)
 */
import { CONNACK, MqttFramer, PUBACK, PUBLISH, SUBACK, type PacketSink } from '../sim/network/framer.ts';
import { puback, writePuback } from '../sim/network/replies.ts';
import { RawTcp, type RawTcpOwner } from '../sim/transport/raw-tcp.ts';
import { generate } from 'mqtt-packet';
import { ackTopic, encodeBatch, upTopic } from '../protocol/uplink.ts';
import { measure, paramsFromArgv, type Contender } from './measure.ts';

const p = paramsFromArgv();
const ACKED = process.argv[3] === 'acked';
const TICK_MS = 20;
/** A `time` value of 13 digits, found again in the encoded payload to patch it per send. */
const TIME_MARK = 1_111_111_111_111;

let connected = 0;
let pubacks = 0;
let appAcks = 0;
let errors = 0;

class FloorDevice implements RawTcpOwner, PacketSink {
  readonly socket: RawTcp;
  up = false;
  seq = 0;
  /** Acked floor: the packet id of the ack delivery owed a PUBACK (0: none), and any beyond it. */
  owed = 0;
  readonly moreOwed: number[] = [];
  framer = new MqttFramer();

  constructor(
    port: number,
    /** Room for a PUBACK's 4 bytes, then the PUBLISH (`publish`). */
    readonly frame: Buffer,
    readonly publish: Buffer,
    /** Offset of the packet id, and of the 13 `time` digits, in `publish`. */
    readonly idAt: number,
    readonly timeAt: number,
  ) {
    this.socket = new RawTcp('127.0.0.1', port, this);
  }

  rawRead(_s: RawTcp, buf: Buffer, n: number): void {
    if (ACKED) {
      try {
        this.framer.push(buf.subarray(0, n), this);
      } catch {
        this.refused(); // not MQTT (FramingError)
      }
      return;
    }
    let at = 0;
    if (!this.up) {
      // CONNACK (4 bytes, return code 0); anything after it in the chunk is PUBACKs.
      if (buf[0] !== 0x20 || buf[3] !== 0) {
        errors++;
        this.socket.destroy();
        return;
      }
      this.up = true;
      connected++;
      at = 4;
    }
    // Only PUBACKs (4 bytes each) come to a client that publishes at QoS 1 and subscribes to nothing.
    pubacks += (n - at) >> 2;
  }

  /**
   * The acked floor's packets (PacketSink), split by the lean link's own framer: CONNACK, SUBACK,
   * PUBACK and QoS 1 PUBLISHes of acks. A delivery's packet id is owed a PUBACK; its payload is not
   * decoded (the fleet's model would, not its wire).
   */
  packet(buf: Buffer, type: number, _flags: number, _start: number, body: number): void {
    if (type === PUBLISH) {
      // QoS 1: the topic's length and the topic, then the packet id to answer.
      const id = buf.readUInt16BE(body + 2 + buf.readUInt16BE(body));
      if (this.owed === 0) this.owed = id;
      else this.moreOwed.push(id);
      appAcks++;
    } else if (type === CONNACK) {
      if (buf[body + 1] !== 0) return this.refused();
      this.up = true;
      connected++;
    } else if (type === PUBACK) {
      pubacks++;
    } else if (type === SUBACK && buf[body + 2] === 0x80) {
      this.refused();
    }
  }

  private refused(): void {
    errors++;
    this.socket.destroy();
  }

  /** The PUBLISH to write now, with the owed PUBACK in front of it (acked floor). */
  sendNow(): void {
    if (this.owed === 0) {
      this.socket.write(this.publish);
      return;
    }
    // More than one owed (a late ack and the next): in the order their deliveries came
    // [MQTT-4.6.0-2], all but the newest alone, the newest riding with the PUBLISH.
    let last = this.owed;
    for (const id of this.moreOwed) {
      this.socket.write(puback(last));
      last = id;
    }
    this.moreOwed.length = 0;
    // `publish` is a view 4 bytes into `frame`: the PUBACK goes in front of it, no copy.
    writePuback(this.frame, 0, last);
    this.owed = 0;
    this.socket.write(this.frame);
  }

  rawError(): void {
    errors++;
  }

  rawClosed(): void {
    if (this.up) connected--;
    this.up = false;
    this.owed = 0;
    this.moreOwed.length = 0;
    this.framer = new MqttFramer();
  }
}

await measure(ACKED ? 'acked floor' : 'floor', p, (): Contender => {
  const devices: (FloorDevice | undefined)[] = new Array(p.devices);
  const timers: NodeJS.Timeout[] = [];
  let ticker: NodeJS.Timeout | undefined;
  let publishes = 0;

  const open = (i: number): void => {
    const id = `FLOOR-${String(i + 1).padStart(5, '0')}`;
    const payload = Buffer.from(encodeBatch([{
      device: id, seq: 1, time: TIME_MARK, battery: 80, type: 'position', lat: 48.85 + (i % 100) * 1e-4, lon: 2.35, accuracy: 5,
    }]));
    const publish = generate({ cmd: 'publish', topic: upTopic(id), payload, qos: 1, messageId: 1, dup: false, retain: false });
    const frame = Buffer.concat([Buffer.alloc(4), publish]); // room for a PUBACK in front
    const packet = frame.subarray(4);
    const timeAt = packet.indexOf(String(TIME_MARK));
    const idAt = packet.length - payload.length - 2;
    const d = new FloorDevice(Number(new URL(p.url).port), frame, packet, idAt, timeAt);
    devices[i] = d;
    d.socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: id, keepalive: 0 }));
    // Written right behind the CONNECT: a client need not wait for the CONNACK (MQTT 3.1.1 §3.1.4).
    if (ACKED) d.socket.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: ackTopic(id), qos: 1 }] }));
  };

  let last = Date.now();
  const tick = (): void => {
    // Device i sends at phase i/N of each second: every device once a second, spread evenly; a late
    // tick catches up on the phases it missed (at most one whole second).
    const now = Date.now();
    const span = Math.min(now - last, 999);
    last = now;
    const from = Math.floor((((now - span) % 1000) / 1000) * p.devices);
    const to = Math.floor(((now % 1000) / 1000) * p.devices);
    const send = (i: number): void => {
      const d = devices[i];
      if (!d?.up) return;
      d.seq = (d.seq % 65_535) + 1;
      d.publish.writeUInt16BE(d.seq, d.idAt);
      d.publish.write(String(Date.now()), d.timeAt, 'latin1');
      d.sendNow();
      publishes++;
    };
    if (from <= to) for (let i = from; i < to; i++) send(i);
    else {
      for (let i = from; i < p.devices; i++) send(i);
      for (let i = 0; i < to; i++) send(i);
    }
  };

  return {
    start() {
      // The same spread as the other contenders: slot / rate, plus up to one slot of jitter.
      for (let i = 0; i < p.devices; i++) {
        timers.push(setTimeout(() => open(i), (i / p.connectRatePerS) * 1000 + Math.random() * (1000 / p.connectRatePerS)));
      }
      last = Date.now();
      ticker = setInterval(tick, TICK_MS);
    },
    connected: () => connected,
    publishes: () => publishes,
    records: () => ({ sent: publishes, resent: 0 }),
    acks: () => (ACKED ? appAcks : pubacks),
    extra: () => ({ errors, pubacks, appAcks }),
    close() {
      clearInterval(ticker);
      for (const t of timers) clearTimeout(t);
      for (const d of devices) d?.socket.destroy();
      return Promise.resolve();
    },
  };
});
