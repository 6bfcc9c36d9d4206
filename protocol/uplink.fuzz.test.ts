/**
 * Fuzzing the uplink codec (issue 8 item 7): random, truncated, oversized and garbage topics and
 * payloads decode or give an UplinkDecodeError; valid batches and acks round-trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodesOrRefuses, FUZZ_RUNS } from '../test/support/fuzz.ts';
import {
  ackJson, decodeAck, decodeBatch, deviceOfUpTopic, encodeAck, encodeBatch, upTopic, DEVICE_ID, UplinkDecodeError, type UplinkRecord,
} from './uplink.ts';

const ID_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'];
/** Any device id (DEVICE_ID); drawn from its characters, three times cheaper than fc.stringMatching. */
const deviceId = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 64 });
// JSON has no -0: it comes back as 0, which is the same number to every reader but not to toEqual.
const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true }).map((x) => (x === 0 ? 0 : x));
const base = (device: string) => ({
  device: fc.constant(device),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  time: fc.integer({ min: 0, max: 8.64e15 }),
  battery: finite(0, 100),
});
const record = (device: string): fc.Arbitrary<UplinkRecord> => fc.oneof(
  fc.record({ ...base(device), type: fc.constant('position' as const), lat: finite(-90, 90), lon: finite(-180, 180), accuracy: finite(0, 1e6) }),
  fc.record({ ...base(device), type: fc.constant('heartbeat' as const) }),
  fc.record({ ...base(device), type: fc.constant('event' as const), event: fc.string({ minLength: 1, unit: 'grapheme' }) }),
);
const batch = deviceId.chain((device) => fc.tuple(fc.constant(device), fc.array(record(device), { minLength: 1, maxLength: 5 })));

/** Text that looks like a payload more often than random text would: JSON of anything, cut anywhere. */
const payloadText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.tuple(fc.jsonValue().map((v) => JSON.stringify(v)), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
);

/** A valid batch with one field of one record replaced (or removed): what a buggy firmware sends. */
const mutatedBatch = fc.tuple(batch, fc.nat(), fc.constantFrom('device', 'seq', 'time', 'battery', 'type', 'lat', 'lon', 'accuracy', 'event', 'v', 'records'), fc.option(fc.jsonValue({ maxDepth: 2 })))
  .map(([[device, records], i, field, value]) => {
    const body: Record<string, unknown> = { v: 1, records: records.map((r) => ({ ...r })) };
    const target = field === 'v' || field === 'records' ? body : (body.records as Record<string, unknown>[])[i % records.length] as Record<string, unknown>;
    if (value === null) delete target[field];
    else target[field] = value;
    return { device, text: JSON.stringify(body) };
  });

describe('uplink codec under fuzzing', () => {
  it('decodes or refuses any payload text or bytes, with or without the topic\'s device', () => {
    fc.assert(fc.property(fc.oneof(payloadText, fc.uint8Array({ maxLength: 300 })), fc.option(deviceId), (payload, device) => {
      decodesOrRefuses(() => decodeBatch(payload, device ?? undefined), UplinkDecodeError);
      decodesOrRefuses(() => decodeAck(payload), UplinkDecodeError);
    }), { numRuns: FUZZ_RUNS });
  });

  it('a batch with one field changed or removed decodes to records that pass the checks, or is refused', () => {
    fc.assert(fc.property(mutatedBatch, ({ device, text }) => {
      const decoded = decodesOrRefuses(() => decodeBatch(text, device), UplinkDecodeError);
      // A plain boolean (fast-check reports the input when it is false): an expect per record costs more than the decode.
      return (decoded?.records ?? []).every((r) => r.device === device && Number.isSafeInteger(r.seq) && r.seq >= 1);
    }), { numRuns: FUZZ_RUNS });
  });

  it('a truncated batch is refused as a whole (never a partial batch)', () => {
    fc.assert(fc.property(batch, fc.nat({ max: 2000 }), ([device, records], cut) => {
      const bytes = encodeBatch(records);
      const truncated = bytes.subarray(0, Math.min(cut, bytes.length - 1));
      expect(decodesOrRefuses(() => decodeBatch(truncated, device), UplinkDecodeError)).toBeUndefined();
    }), { numRuns: 3_000 });
  });

  it('oversized payloads: deep nesting, long strings and many records decode or are refused', () => {
    const oversized = fc.oneof(
      fc.integer({ min: 1_000, max: 50_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
      fc.integer({ min: 1_000, max: 50_000 }).map((n) => `{"v":1,"records":[{"device":"${'A'.repeat(n)}"}]}`),
      fc.tuple(batch, fc.integer({ min: 1_000, max: 5_000 })).map(([[, records], n]) => encodeBatch(Array.from({ length: n }, () => records[0] as UplinkRecord))),
    );
    fc.assert(fc.property(oversized, (payload) => {
      decodesOrRefuses(() => decodeBatch(payload), UplinkDecodeError);
      decodesOrRefuses(() => decodeAck(payload), UplinkDecodeError);
    }), { numRuns: 30 });
  });

  it('valid batches and acks round-trip', () => {
    fc.assert(fc.property(batch, fc.nat(), ([device, records], ack) => {
      expect(decodeBatch(encodeBatch(records), device).records).toEqual(records);
      expect(decodeAck(encodeAck(device, ack))).toEqual({ v: 1, device, ack });
      expect(decodeAck(ackJson(device, ack)).ack).toBe(ack);
    }), { numRuns: FUZZ_RUNS });
  });

  it('topics: any text maps to a valid device id or to nothing; upTopic round-trips', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), deviceId, (topic, id) => {
      const found = deviceOfUpTopic(topic);
      if (found !== undefined) expect(DEVICE_ID.test(found) && upTopic(found) === topic).toBe(true);
      expect(deviceOfUpTopic(upTopic(id))).toBe(id);
      expect(deviceOfUpTopic(`${upTopic(id)}x`)).toBeUndefined();
    }), { numRuns: FUZZ_RUNS });
  });
});
