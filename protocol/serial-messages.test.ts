import { describe, expect, it } from 'vitest';
import type { UplinkRecord } from './uplink.ts';
import {
  identityFields, parseConfigure, parseFix, parseIdentity, parseRecord, parseSetTime, parseStatus, recordFields, RECORD_FRAME_TYPE,
  SerialPayloadError, statusFields, parseEmpty,
} from './serial-messages.ts';

describe('serial message fields', () => {
  it('round-trips each record type through its frame fields', () => {
    const records: UplinkRecord[] = [
      { device: 'psem-0042', seq: 1041, time: 1635178200000, battery: 71, type: 'position', lat: 48.85661, lon: 2.35222, accuracy: 8.5 },
      { device: 'psem-0042', seq: 1042, time: 1635178380000, battery: 71, type: 'heartbeat' },
      { device: 'psem-0042', seq: 1043, time: 1635178391250, battery: 70, type: 'event', event: 'strap_tamper' },
    ];
    for (const r of records) expect(parseRecord(RECORD_FRAME_TYPE[r.type], recordFields(r))).toEqual(r);
  });

  it('checks a record as the MQTT uplink does, naming the field', () => {
    expect(() => parseRecord('POS', ['d1', '1', '1000', '50', '91', '2', '5'])).toThrow(/lat must be -90–90/);
    expect(() => parseRecord('HBT', ['d 1', '1', '1000', '50'])).toThrow(/device is not a device id/);
    expect(() => parseRecord('HBT', ['d1', '0', '1000', '50'])).toThrow(/seq must be a number in 1…/);
    expect(() => parseRecord('EVT', ['d1', '1', '1000', '50'])).toThrow(SerialPayloadError);
    expect(() => parseRecord('HBT', ['d1', '1', '0x10', '50'])).toThrow(/time must be a number/);
  });

  it('round-trips identity and status', () => {
    const id = { serialNumber: 'EMU-1', model: 'm', firmwareVersion: '1.0.0', deviceTypes: ['psem', 'bar_perpetrator'] as const, followsVirtualTime: true, protocolVersion: 1 };
    expect(parseIdentity(identityFields(id))).toEqual(id);
    const st = { time: 1635178200000.5, battery: 12, charging: false, outbox: 3, lastSeq: 99, selfTest: 'ok' };
    expect(parseStatus(statusFields(st))).toEqual(st);
    expect(() => parseIdentity(['s', 'm', 'f', 'psem;pse', '1', '1'])).toThrow(/deviceTypes must be psem and\/or bar_perpetrator/);
  });

  it('rejects bad commands with the field and the value', () => {
    expect(parseConfigure(['psem-1', 'psem'])).toEqual({ deviceId: 'psem-1', deviceType: 'psem' });
    expect(() => parseConfigure(['psem-1', 'pse'])).toThrow(/deviceType must be psem or bar_perpetrator, got "pse"/);
    expect(() => parseSetTime(['1000', '0'])).toThrow(/speed must be > 0/);
    expect(() => parseFix(['48.8', '2.3'])).toThrow(/expected 3 field\(s\) \(lat, lon, accuracy\), got 2/);
    expect(() => parseEmpty('STA', ['x'])).toThrow(/expected no fields/);
  });
});
