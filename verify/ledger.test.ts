import { describe, expect, it } from 'vitest';
import type { FeedAlarm } from '../protocol/feed.ts';
import type { Expectation } from '../sim/model/oracle/oracle.ts';
import { DEFAULT_SLA_MS } from '../sim/model/defaults.ts';
import { buildLedger, type Observation } from './ledger.ts';

const T0 = 1_000_000_000;
const sla = { ...DEFAULT_SLA_MS, exclusion_zone_entry: 240_000, communication_loss: 240_000 };
const exp = (deviceId: string, seq: number, t = T0 + seq * 1000): Expectation => ({ deviceId, kind: 'exclusion_zone_entry', seq, deviceTime: t, triggerTime: t, zoneId: `Z-${deviceId}` });
let cursor = 0;
const obs = (e: Expectation, latency: number, alarmId = `A${++cursor}`): Observation => ({
  alarm: { type: 'alarm', cursor: ++cursor, alarmId, deviceId: e.deviceId, kind: e.kind, seq: e.seq, deviceTime: e.deviceTime, raisedAt: e.triggerTime, zoneId: e.zoneId } as FeedAlarm,
  receivedAt: e.triggerTime + latency,
});
const window = { start: T0, end: T0 + 3_600_000 };

describe('ledger', () => {
  it('classifies on time, late, dropped, duplicate and spurious, naming each', () => {
    const [a, b, c, d] = [exp('D1', 1), exp('D2', 2), exp('D3', 3), exp('D4', 4)] as [Expectation, Expectation, Expectation, Expectation];
    const ghost = exp('D9', 9);
    const l = buildLedger({
      expectations: [a, b, c, d],
      observations: [obs(a, 1000), obs(b, 300_000), obs(d, 2000), obs(d, 3000), obs(ghost, 10)],
      window, slaMs: sla, offlineTimeoutMs: 600_000,
    });
    expect(l.counts).toEqual({ expected: 4, onTime: 2, late: 1, lateAllowed: 0, dropped: 1, duplicates: 1, spurious: 1, outOfWindow: 0, optionalSeen: 0 });
    expect(l.failures.map((f) => [f.status, f.deviceId])).toEqual([['late', 'D2'], ['dropped', 'D3'], ['duplicate', 'D4'], ['spurious', 'D9']]);
    expect(l.failures.find((f) => f.status === 'late')!.detail).toMatch(/5 min 0 s after its trigger, SLA 4 min 0 s/);
    expect(l.latencyMs.exclusion_zone_entry).toMatchObject({ count: 3, max: 300_000 });
  });

  it('keeps every entry of the devices asked for, on time too, and only the failures of the rest', () => {
    const [a, b, c, d] = [exp('HIL-1', 1), exp('HIL-1', 2), exp('HIL-1', 3), exp('D4', 4)] as [Expectation, Expectation, Expectation, Expectation];
    const ghost = exp('HIL-1', 9);
    const l = buildLedger({
      expectations: [a, b, c, d], observations: [obs(a, 1000), obs(b, 300_000), obs(d, 2000), obs(ghost, 10)],
      window, slaMs: sla, offlineTimeoutMs: 600_000, keep: (id) => id === 'HIL-1',
    });
    expect(l.kept.map((e) => [e.status, e.seq])).toEqual([['on_time', 1], ['late', 2], ['dropped', 3], ['spurious', 9]]);
    expect(l.kept[0]).toMatchObject({ deviceId: 'HIL-1', latencyMs: 1000, detail: expect.stringMatching(/within its SLA of 4 min 0 s/) });
    expect(l.failures.map((f) => f.deviceId)).toEqual(['HIL-1', 'HIL-1', 'HIL-1']);
    expect(buildLedger({ expectations: [a, d], observations: [obs(a, 1000)], window, slaMs: sla, offlineTimeoutMs: 600_000 }).kept).toEqual([]);
  });

  it('counts per kind and per device type', () => {
    const [a, b] = [exp('PSEM-1', 1), exp('PSE-1', 2)] as [Expectation, Expectation];
    const l = buildLedger({
      expectations: [a, b], observations: [obs(a, 1000)], window, slaMs: sla, offlineTimeoutMs: 600_000,
      deviceTypes: new Map([['PSEM-1', 'psem'], ['PSE-1', 'pse']]),
    });
    expect(l.perDeviceType.psem).toMatchObject({ expected: 1, onTime: 1, observed: 1 });
    expect(l.perDeviceType.pse).toMatchObject({ expected: 1, dropped: 1, observed: 0 });
    expect(l.perKind.exclusion_zone_entry).toMatchObject({ expected: 2, onTime: 1, dropped: 1 });
  });

  it('does not count a replay of the same alarm id as a duplicate', () => {
    const a = exp('D1', 1);
    const first = obs(a, 1000, 'same');
    const l = buildLedger({ expectations: [a], observations: [first, { ...first, receivedAt: first.receivedAt + 5 }], window, slaMs: sla, offlineTimeoutMs: 600_000 });
    expect(l.counts.duplicates).toBe(0);
    expect(l.counts.onTime).toBe(1);
  });

  it('ignores alarms triggered outside the run window, both ways', () => {
    const late = exp('D1', 1, window.end + 1);
    const l = buildLedger({ expectations: [late], observations: [obs(late, 10)], window, slaMs: sla, offlineTimeoutMs: 600_000 });
    expect(l.counts).toMatchObject({ expected: 0, spurious: 0, outOfWindow: 1 });
  });

  it('times communication_loss from deviceTime + offline timeout', () => {
    const e: Expectation = { deviceId: 'D1', kind: 'communication_loss', seq: 5, deviceTime: T0, triggerTime: T0 + 600_000 };
    const o: Observation = { alarm: { type: 'alarm', cursor: 1, alarmId: 'X', deviceId: 'D1', kind: 'communication_loss', seq: 5, deviceTime: T0, raisedAt: T0 + 600_500 }, receivedAt: T0 + 601_000 };
    const l = buildLedger({ expectations: [e], observations: [o], window, slaMs: sla, offlineTimeoutMs: 600_000 });
    expect(l.counts.onTime).toBe(1);
    expect(l.latencyMs.communication_loss!.max).toBe(1000);
  });

  it('a late alarm due under a fault is allowed until its link came back plus the allowance, and no later', () => {
    const [a, b, c] = [exp('D1', 1), exp('D2', 2), exp('D3', 3)] as [Expectation, Expectation, Expectation];
    const excuse = (e: Expectation) => (e.deviceId === 'D3' ? undefined : { faults: ['cut'], lateOkUntil: T0 + 3_600_000 });
    const l = buildLedger({
      expectations: [a, b, c], observations: [obs(a, 3_000_000), obs(b, 4_000_000), obs(c, 300_000)], window, slaMs: sla, offlineTimeoutMs: 600_000, excuse,
    });
    expect(l.counts).toMatchObject({ onTime: 0, lateAllowed: 1, late: 2 });
    expect(l.lateAllowed.map((x) => [x.deviceId, x.faults])).toEqual([['D1', ['cut']]]);
    expect(l.lateAllowed[0]!.detail).toMatch(/50 min 0 s after its trigger during cut, within the allowance/);
    expect(l.failures.find((x) => x.deviceId === 'D2')!.detail).toMatch(/during cut, SLA 4 min 0 s, and .* past the allowance/);
    expect(l.perFault.cut).toMatchObject({ expected: 2, lateAllowed: 1, late: 1 });
    // Latency under a fault is reported apart; the SLA judges the rest.
    expect(l.latencyMs.exclusion_zone_entry).toMatchObject({ count: 1, max: 300_000 });
    expect(l.latencyUnderFaultMs.exclusion_zone_entry).toMatchObject({ count: 2 });
  });

  it('an optional alarm seen is neither expected nor spurious', () => {
    const e: Expectation = { deviceId: 'D1', kind: 'communication_loss', seq: 5, deviceTime: T0, triggerTime: T0 + 600_000 };
    const o: Observation = { alarm: { type: 'alarm', cursor: 1, alarmId: 'X', deviceId: 'D1', kind: 'communication_loss', seq: 5, deviceTime: T0, raisedAt: T0 + 600_500 }, receivedAt: T0 + 601_000 };
    const l = buildLedger({ expectations: [], optional: [e], observations: [o], window, slaMs: sla, offlineTimeoutMs: 600_000 });
    expect(l.counts).toMatchObject({ expected: 0, spurious: 0, optionalSeen: 1 });
    const without = buildLedger({ expectations: [], observations: [o], window, slaMs: sla, offlineTimeoutMs: 600_000 });
    expect(without.counts.spurious).toBe(1);
  });
});
