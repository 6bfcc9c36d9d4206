/**
 * Fuzzing the operator-feed parser (issue 8 item 7): whatever a pipeline sends on the feed — garbage,
 * truncated JSON, a message with one field wrong, oversized text — decodeFeedMessage returns a
 * message or throws a FeedDecodeError (which the harness counts as malformed, verify/feed-consumer.ts);
 * valid messages round-trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodesOrRefuses, FUZZ_RUNS } from '../test/support/fuzz.ts';
import { ALARM_KINDS } from './alarms.ts';
import { decodeFeedMessage, FeedDecodeError, type FeedMessage } from './feed.ts';

const time = fc.integer({ min: 0, max: 8.64e15 });
const id = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
const alarm = fc.record({
  type: fc.constant('alarm' as const),
  cursor: fc.nat(),
  alarmId: id,
  deviceId: id,
  kind: fc.constantFrom(...ALARM_KINDS),
  seq: fc.nat(),
  deviceTime: time,
  raisedAt: time,
  zoneId: id,
  pairId: id,
}, { requiredKeys: ['type', 'cursor', 'alarmId', 'deviceId', 'kind', 'seq', 'deviceTime', 'raisedAt'] });
const message: fc.Arbitrary<FeedMessage> = fc.oneof(
  alarm,
  fc.record({ type: fc.constant('hello' as const), head: fc.nat(), server: fc.string({ unit: 'grapheme' }) }),
  fc.record({ type: fc.constant('ping' as const), at: time }),
);

/** A valid message with one field replaced (or removed) by any JSON value. */
const mutated = fc.tuple(message, fc.constantFrom('type', 'cursor', 'alarmId', 'deviceId', 'kind', 'seq', 'deviceTime', 'raisedAt', 'zoneId', 'head', 'at'), fc.option(fc.jsonValue({ maxDepth: 2 })))
  .map(([m, field, value]) => {
    const o: Record<string, unknown> = { ...m };
    if (value === null) delete o[field];
    else o[field] = value;
    return JSON.stringify(o);
  });

const garbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  message.chain((m) => {
    const text = JSON.stringify(m);
    return fc.nat({ max: text.length - 1 }).map((n) => text.slice(0, n));
  }),
  mutated,
);

describe('operator-feed parser under fuzzing', () => {
  it('decodes or refuses any text: garbage, truncated, one field wrong', () => {
    fc.assert(fc.property(garbage, (raw) => {
      const msg = decodesOrRefuses(() => decodeFeedMessage(raw), FeedDecodeError);
      if (msg !== undefined) expect(['alarm', 'hello', 'ping']).toContain(msg.type);
    }), { numRuns: FUZZ_RUNS });
  });

  it('a refusal names what was wrong and keeps at most 200 characters of the message', () => {
    fc.assert(fc.property(fc.oneof(mutated, fc.string({ minLength: 300, maxLength: 2000 })), (raw) => {
      try {
        decodeFeedMessage(raw);
      } catch (err) {
        expect(err).toBeInstanceOf(FeedDecodeError);
        expect((err as FeedDecodeError).reason).not.toBe('');
        expect((err as FeedDecodeError).raw.length).toBeLessThanOrEqual(200);
      }
    }), { numRuns: 2_000 });
  });

  it('oversized messages: deep nesting and long fields decode or are refused', () => {
    const oversized = fc.oneof(
      fc.integer({ min: 1_000, max: 50_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
      fc.integer({ min: 1_000, max: 200_000 }).map((n) => JSON.stringify({ type: 'hello', head: 1, server: 'x'.repeat(n) })),
    );
    fc.assert(fc.property(oversized, (raw) => {
      decodesOrRefuses(() => decodeFeedMessage(raw), FeedDecodeError);
    }), { numRuns: 30 });
  });

  it('valid messages round-trip', () => {
    fc.assert(fc.property(message, (m) => {
      expect(decodeFeedMessage(JSON.stringify(m))).toEqual(m);
    }), { numRuns: FUZZ_RUNS });
  });
});
