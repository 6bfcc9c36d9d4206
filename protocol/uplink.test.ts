import { describe, expect, it } from 'vitest';
import { ackTopic, decodeAck, decodeBatch, deviceOfUpTopic, encodeAck, encodeBatch, upTopic, UplinkDecodeError, type UplinkRecord } from './uplink.ts';

const pos: UplinkRecord = { device: 'PSEM-00001', seq: 1, time: 1_635_170_400_000, battery: 80, type: 'position', lat: 48.85, lon: 2.35, accuracy: 5 };
const hb: UplinkRecord = { device: 'PSEM-00001', seq: 2, time: 1_635_170_460_000, battery: 80, type: 'heartbeat' };

describe('uplink codec', () => {
  it('round-trips a batch and an ack', () => {
    expect(decodeBatch(encodeBatch([pos, hb]), 'PSEM-00001').records).toEqual([pos, hb]);
    expect(decodeAck(encodeAck('PSEM-00001', 41))).toEqual({ v: 1, device: 'PSEM-00001', ack: 41 });
  });

  it('maps topics both ways and rejects other topics', () => {
    expect(deviceOfUpTopic(upTopic('PSEM-00007'))).toBe('PSEM-00007');
    expect(deviceOfUpTopic(ackTopic('PSEM-00007'))).toBeUndefined();
    expect(deviceOfUpTopic('vigil/v1/devices/a/b/up')).toBeUndefined();
  });

  it.each([
    ['not json', 'not JSON'],
    [JSON.stringify({ v: 2, records: [pos] }), 'v must be 1'],
    [JSON.stringify({ v: 1, records: [] }), 'records must be a non-empty array'],
    [JSON.stringify({ v: 1, records: [{ ...pos, seq: 0 }] }), 'records[0].seq'],
    [JSON.stringify({ v: 1, records: [{ ...pos, lat: 91 }] }), 'records[0].lat'],
    [JSON.stringify({ v: 1, records: [{ ...pos, type: 'x' }] }), 'records[0].type'],
    [JSON.stringify({ v: 1, records: [hb, { ...pos, device: 'PSEM-00002' }] }), 'records[1].device "PSEM-00002" differs'],
  ])('names what is wrong in %s', (payload, reason) => {
    expect(() => decodeBatch(payload, 'PSEM-00001')).toThrow(UplinkDecodeError);
    expect(() => decodeBatch(payload, 'PSEM-00001')).toThrow(reason);
  });
});
