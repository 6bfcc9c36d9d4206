import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { FramingError, MqttFramer, PUBLISH, publishPacketId, topicFilterCount, uplinkPayloadStart, type PacketSink } from './framer.ts';

interface Seen {
  type: number;
  flags: number;
  bytes: Buffer;
  body: Buffer;
}

function collector(): PacketSink & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    packet(buf, type, flags, start, bodyStart, end) {
      seen.push({ type, flags, bytes: Buffer.from(buf.subarray(start, end)), body: Buffer.from(buf.subarray(bodyStart, end)) });
    },
  };
}

function publish(payloadBytes: number, qos: 0 | 1 = 1, topic = 'vigil/v1/devices/d1/up'): Buffer {
  return generate({ cmd: 'publish', topic, payload: Buffer.alloc(payloadBytes, 0x61), qos, messageId: qos ? 7 : undefined, retain: false, dup: false } as Packet);
}

/** Feeds `stream` cut at `cuts`, returns what the framer saw. */
function frame(stream: Buffer, cuts: number[]): Seen[] {
  const f = new MqttFramer();
  const sink = collector();
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    if (at <= from) continue;
    f.push(stream.subarray(from, at), sink);
    from = at;
  }
  expect(f.pending).toBe(0);
  return sink.seen;
}

const PINGREQ = Buffer.from([0xc0, 0x00]);

describe('MqttFramer', () => {
  // Remaining lengths at the edges of 1, 2, 3 and 4 length bytes [MQTT-2.2.3].
  const remaining = [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152];

  it.each(remaining)('frames a packet of remaining length %i with the right header size', (rem) => {
    const topic = 'vigil/v1/devices/d1/up';
    const payload = rem === 0 ? 0 : rem - (2 + topic.length + 2);
    const pkt = rem === 0 ? PINGREQ : publish(payload);
    const lenBytes = rem < 128 ? 1 : rem < 16_384 ? 2 : rem < 2_097_152 ? 3 : 4;
    expect(pkt.length).toBe(1 + lenBytes + rem);
    const seen = frame(pkt, []);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.bytes.equals(pkt)).toBe(true);
    expect(seen[0]!.body.length).toBe(rem);
  });

  it('frames packets split byte by byte, including inside the remaining length', () => {
    const stream = Buffer.concat([publish(200), PINGREQ, publish(20_000), publish(3, 0)]);
    const cuts = Array.from({ length: stream.length }, (_, i) => i);
    const seen = frame(stream, cuts);
    expect(seen.map((s) => s.bytes.length)).toEqual([publish(200).length, 2, publish(20_000).length, publish(3, 0).length]);
    expect(Buffer.concat(seen.map((s) => s.bytes)).equals(stream)).toBe(true);
  });

  it('frames many packets merged in one chunk', () => {
    const pkts = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? PINGREQ : publish(i)));
    const seen = frame(Buffer.concat(pkts), []);
    expect(seen).toHaveLength(500);
    seen.forEach((s, i) => expect(s.bytes.equals(pkts[i]!)).toBe(true));
  });

  it('frames any cut of any packet sequence the same way (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 20_000 })), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (sizes, rawCuts) => {
          const pkts = sizes.map((n) => (n < 0 ? PINGREQ : publish(n)));
          const stream = Buffer.concat(pkts);
          const cuts = rawCuts.map((c) => c % stream.length).sort((a, b) => a - b);
          const seen = frame(stream, cuts);
          expect(seen.map((s) => s.bytes.toString('hex'))).toEqual(pkts.map((p) => p.toString('hex')));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds an incomplete packet until its last byte', () => {
    const f = new MqttFramer();
    const sink = collector();
    const pkt = publish(1000);
    f.push(pkt.subarray(0, 600), sink);
    expect(sink.seen).toHaveLength(0);
    expect(f.pending).toBe(600);
    f.push(pkt.subarray(600, pkt.length - 1), sink);
    expect(sink.seen).toHaveLength(0);
    f.push(Buffer.concat([pkt.subarray(pkt.length - 1), PINGREQ.subarray(0, 1)]), sink);
    expect(sink.seen).toHaveLength(1);
    expect(f.pending).toBe(1);
  });

  it('rejects a remaining length longer than 4 bytes', () => {
    expect(() => new MqttFramer().push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), collector())).toThrow(FramingError);
  });

  it('rejects the reserved packet type 0 and PUBLISH QoS 3', () => {
    expect(() => new MqttFramer().push(Buffer.from([0x00, 0x00]), collector())).toThrow(FramingError);
    expect(() => new MqttFramer().push(Buffer.from([0x36, 0x00]), collector())).toThrow(/QoS 3/);
  });

  it('rejects garbage after good packets, having delivered the good ones', () => {
    const sink = collector();
    expect(() => new MqttFramer().push(Buffer.concat([PINGREQ, Buffer.from([0x05, 0x00])]), sink)).toThrow(FramingError);
    expect(sink.seen).toHaveLength(1);
  });
});

describe('PUBLISH and SUBSCRIBE fields read in place', () => {
  function only(pkt: Buffer): Seen & { start: number; bodyStart: number; end: number; buf: Buffer } {
    let got: (Seen & { start: number; bodyStart: number; end: number; buf: Buffer }) | undefined;
    new MqttFramer().push(pkt, {
      packet(buf, type, flags, start, bodyStart, end) {
        got = { type, flags, bytes: buf.subarray(start, end), body: buf.subarray(bodyStart, end), start, bodyStart, end, buf };
      },
    });
    return got!;
  }

  it('finds the payload of an uplink publish, v4 QoS 0/1 and v5 with properties', () => {
    for (const qos of [0, 1] as const) {
      const p = only(publish(5, qos));
      expect(p.type).toBe(PUBLISH);
      const at = uplinkPayloadStart(p.buf, p.flags, p.bodyStart, p.end, false);
      expect(p.buf.subarray(at, p.end).toString()).toBe('aaaaa');
    }
    const v5 = generate(
      { cmd: 'publish', topic: 'vigil/v1/devices/d1/up', payload: Buffer.from('hello'), qos: 1, messageId: 9, retain: false, dup: false, properties: { contentType: 'application/json' } },
      { protocolVersion: 5 },
    );
    const p = only(v5);
    expect(p.buf.subarray(uplinkPayloadStart(p.buf, p.flags, p.bodyStart, p.end, true), p.end).toString()).toBe('hello');
    expect(publishPacketId(p.buf, p.bodyStart, p.end)).toBe(9);
  });

  it('says a publish on another topic is not an uplink', () => {
    const p = only(publish(5, 1, 'vigil/v1/devices/d1/ack'));
    expect(uplinkPayloadStart(p.buf, p.flags, p.bodyStart, p.end, false)).toBe(-1);
  });

  it('counts the filters of a SUBSCRIBE', () => {
    const sub = generate({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a', qos: 1 }, { topic: 'b/c', qos: 0 }, { topic: 'd', qos: 2 }] } as Packet);
    const p = only(sub);
    expect(topicFilterCount(p.buf, p.bodyStart, p.end, false, 1)).toBe(3);
  });
});
