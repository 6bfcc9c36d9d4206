/**
 * buildLedger indexes alarms by number (verify/alarm-index.ts) and sorts by typed arrays for speed
 * (bench/ledger.bench.ts). Here, on small random inputs full of the awkward cases — several alarms
 * on one record, an expectation listed twice, replays, an alarm id reused for another alarm, feed
 * order scrambled, alarms outside the window, optional ones, faults — it must give what the plain
 * version gives: one string key per alarm (alarmKey), a Map, a Set of alarm ids, a sort.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALARM_KINDS, type AlarmKind } from '../protocol/alarms.ts';
import type { FeedAlarm } from '../protocol/feed.ts';
import { DEFAULT_SLA_MS } from '../sim/model/defaults.ts';
import { alarmKey, type Expectation } from '../sim/model/oracle/oracle.ts';
import { buildLedger, fmtMs, observedTriggerTime, type LateExcuse, type LedgerEntry, type LedgerInput, type Observation } from './ledger.ts';

const T0 = Date.parse('2021-10-25T14:00:00Z');
const MIN = 60_000;
const KINDS: AlarmKind[] = ['strap_tamper', 'exclusion_zone_entry', 'communication_loss', 'bar_alert', 'mass_communication_loss'];

/** The plain ledger: counts, failures and late-allowed entries, by string keys. */
function reference(input: LedgerInput): { counts: Record<string, number>; perKind: Record<string, Record<string, number>>; perDeviceType: Record<string, Record<string, number>>; perFault: Record<string, Record<string, number>>; failures: LedgerEntry[]; lateAllowed: LedgerEntry[]; latencies: Record<string, number[]> } {
  const { window: w, slaMs } = input;
  const inWindow = (t: number): boolean => t >= w.start && t <= w.end;
  const counts: Record<string, number> = { expected: 0, onTime: 0, late: 0, lateAllowed: 0, dropped: 0, duplicates: 0, spurious: 0, outOfWindow: 0 };
  const per = { perKind: {} as Record<string, Record<string, number>>, perDeviceType: {} as Record<string, Record<string, number>>, perFault: {} as Record<string, Record<string, number>> };
  for (const k of ALARM_KINDS) per.perKind[k] = {};
  const count = (kind: string, deviceId: string, faults: readonly string[], field: string, n = 1): void => {
    for (const b of [per.perKind[kind] ??= {}, per.perDeviceType[input.deviceTypes?.get(deviceId) ?? 'unknown'] ??= {}, ...faults.map((f) => (per.perFault[f] ??= {}))]) b[field] = (b[field] ?? 0) + n;
  };
  const seen = new Map<string, Observation[]>();
  const ids = new Set<string>();
  for (const o of [...input.observations].sort((a, b) => a.alarm.cursor - b.alarm.cursor || a.receivedAt - b.receivedAt)) {
    if (ids.has(o.alarm.alarmId)) continue;
    ids.add(o.alarm.alarmId);
    seen.set(alarmKey(o.alarm), [...(seen.get(alarmKey(o.alarm)) ?? []), o]);
  }
  const failures: LedgerEntry[] = [];
  const lateAllowed: LedgerEntry[] = [];
  const latencies: Record<string, number[]> = {};
  const expected = new Set<string>();
  for (const e of input.expectations) {
    if (!inWindow(e.triggerTime) || expected.has(alarmKey(e))) continue;
    expected.add(alarmKey(e));
    const x = input.excuse?.(e);
    const faults = x?.faults ?? [];
    const base = { deviceId: e.deviceId, kind: e.kind, seq: e.seq, deviceTime: e.deviceTime, triggerTime: e.triggerTime, zoneId: e.zoneId, pairId: e.pairId, faults: x?.faults };
    counts.expected!++;
    count(e.kind, e.deviceId, faults, 'expected');
    const obs = seen.get(alarmKey(e)) ?? [];
    const [first, ...dups] = obs;
    if (!first) {
      counts.dropped!++;
      count(e.kind, e.deviceId, faults, 'dropped');
      failures.push({ ...base, status: 'dropped', detail: expect.any(String) as unknown as string });
      continue;
    }
    count(e.kind, e.deviceId, faults, 'observed', obs.length);
    const latency = first.receivedAt - e.triggerTime;
    (latencies[`${x ? 'fault ' : ''}${e.kind}`] ??= []).push(Math.max(0, latency));
    const at = { alarmId: first.alarm.alarmId, receivedAt: first.receivedAt, latencyMs: latency };
    if (latency <= slaMs[e.kind]) {
      counts.onTime!++;
      count(e.kind, e.deviceId, faults, 'onTime');
    } else if (x && first.receivedAt <= x.lateOkUntil) {
      counts.lateAllowed!++;
      count(e.kind, e.deviceId, faults, 'lateAllowed');
      lateAllowed.push({ ...base, ...at, status: 'late_allowed', detail: expect.stringContaining(fmtMs(latency)) as unknown as string });
    } else {
      counts.late!++;
      count(e.kind, e.deviceId, faults, 'late');
      failures.push({ ...base, ...at, status: 'late', detail: expect.stringContaining(`SLA ${fmtMs(slaMs[e.kind])}`) as unknown as string });
    }
    for (const d of dups) {
      counts.duplicates!++;
      count(e.kind, e.deviceId, faults, 'duplicates');
      failures.push({ ...base, status: 'duplicate', alarmId: d.alarm.alarmId, receivedAt: d.receivedAt, latencyMs: d.receivedAt - e.triggerTime, detail: expect.stringContaining(d.alarm.alarmId) as unknown as string });
    }
  }
  const optional = new Set((input.optional ?? []).map(alarmKey));
  let optionalSeen = 0;
  for (const [key, obs] of seen) {
    if (expected.has(key)) continue;
    for (const o of obs) {
      const a = o.alarm;
      count(a.kind, a.deviceId, [], 'observed');
      if (optional.has(key)) {
        optionalSeen++;
        continue;
      }
      const trigger = observedTriggerTime(a, input.offlineTimeoutMs);
      const status = inWindow(trigger) ? 'spurious' : 'outOfWindow';
      counts[status]!++;
      count(a.kind, a.deviceId, [], status);
      if (status === 'spurious') failures.push({ status, deviceId: a.deviceId, kind: a.kind, seq: a.seq, deviceTime: a.deviceTime, triggerTime: trigger, zoneId: a.zoneId, pairId: a.pairId, alarmId: a.alarmId, receivedAt: o.receivedAt, latencyMs: o.receivedAt - trigger, detail: expect.any(String) as unknown as string });
    }
  }
  const order = (a: LedgerEntry, b: LedgerEntry): number => a.triggerTime - b.triggerTime || a.deviceId.localeCompare(b.deviceId);
  return { counts: { ...counts, optionalSeen }, ...per, failures: failures.sort(order), lateAllowed: lateAllowed.sort(order), latencies };
}

/** Few devices, kinds, seqs and ids, so that records, keys and ids collide often. */
const alarm = fc.record({
  device: fc.constantFrom('PSE-00001', 'PSEM-00001', 'BAR-P-00001', 'pse-00001', 'X_1'),
  kind: fc.constantFrom(...KINDS),
  seq: fc.integer({ min: 0, max: 4 }),
  zone: fc.constantFrom(undefined, 'Z-1', 'Z-2'),
  pair: fc.constantFrom(undefined, 'BAR-00001'),
  time: fc.integer({ min: -20, max: 140 }).map((m) => T0 + m * MIN),
});
const observed = fc.record({ of: alarm, cursor: fc.integer({ min: 0, max: 30 }), id: fc.integer({ min: 0, max: 25 }), latencyMin: fc.integer({ min: -1, max: 90 }) });

const scenario = fc.record({
  expected: fc.array(alarm, { maxLength: 25 }),
  observed: fc.array(observed, { maxLength: 30 }),
  /** Observations named after an expectation (so most are found), by index, with a latency. */
  hits: fc.array(fc.record({ i: fc.nat(), cursor: fc.integer({ min: 0, max: 30 }), id: fc.integer({ min: 0, max: 40 }), latencyMin: fc.integer({ min: 0, max: 90 }) }), { maxLength: 30 }),
  optional: fc.array(alarm, { maxLength: 4 }),
  faulted: fc.subarray(['PSE-00001', 'BAR-P-00001', 'X_1']),
  okUntilMin: fc.integer({ min: 0, max: 200 }),
  sorted: fc.boolean(),
});

const toExpectation = (a: { device: string; kind: AlarmKind; seq: number; zone: string | undefined; pair: string | undefined; time: number }): Expectation => ({
  deviceId: a.device, kind: a.kind, seq: a.seq, deviceTime: a.time, triggerTime: a.kind === 'communication_loss' ? a.time + 10 * MIN : a.time,
  ...(a.zone ? { zoneId: a.zone } : {}), ...(a.pair ? { pairId: a.pair } : {}),
});
const toObservation = (e: Expectation, cursor: number, id: number, latencyMin: number): Observation => ({
  alarm: { type: 'alarm', cursor, alarmId: `A${id}`, deviceId: e.deviceId, kind: e.kind, seq: e.seq, deviceTime: e.deviceTime, raisedAt: e.triggerTime, zoneId: e.zoneId, pairId: e.pairId } as FeedAlarm,
  receivedAt: e.triggerTime + latencyMin * MIN,
});

describe('the indexed ledger gives what the plain one gives', () => {
  it('on random small runs full of collisions', () => {
    fc.assert(fc.property(scenario, (s) => {
      const expectations = s.expected.map(toExpectation);
      const observations = [
        ...s.observed.map((o) => toObservation(toExpectation(o.of), o.cursor, o.id, o.latencyMin)),
        ...(expectations.length === 0 ? [] : s.hits.map((h) => toObservation(expectations[h.i % expectations.length] as Expectation, h.cursor, h.id, h.latencyMin))),
      ];
      if (s.sorted) observations.sort((a, b) => a.alarm.cursor - b.alarm.cursor || a.receivedAt - b.receivedAt);
      const faulted = new Set(s.faulted);
      const excuse = (e: Expectation): LateExcuse | undefined => (faulted.has(e.deviceId) ? { faults: e.pairId ? ['cut', 'partition'] : ['cut'], lateOkUntil: T0 + s.okUntilMin * MIN } : undefined);
      const input: LedgerInput = {
        expectations, observations, optional: s.optional.map(toExpectation), excuse,
        window: { start: T0, end: T0 + 120 * MIN }, slaMs: { ...DEFAULT_SLA_MS, strap_tamper: 3 * MIN }, offlineTimeoutMs: 10 * MIN,
        deviceTypes: new Map([['PSE-00001', 'pse'], ['PSEM-00001', 'psem'], ['BAR-P-00001', 'bar_perpetrator']]),
      };
      const got = buildLedger(input);
      const want = reference(input);
      expect(got.counts).toEqual(want.counts);
      const without = (b: Record<string, Record<string, number>>): Record<string, Record<string, number>> =>
        Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).filter(([, n]) => n !== 0))]));
      expect(without(got.perKind as never)).toEqual(want.perKind);
      expect(Object.keys(got.perKind)).toEqual(Object.keys(want.perKind));
      expect(without(got.perDeviceType as never)).toEqual(want.perDeviceType);
      expect(Object.keys(got.perDeviceType)).toEqual(Object.keys(want.perDeviceType));
      expect(without(got.perFault as never)).toEqual(want.perFault);
      expect(Object.keys(got.perFault)).toEqual(Object.keys(want.perFault));
      expect(got.failures).toEqual(want.failures);
      expect(got.lateAllowed).toEqual(want.lateAllowed);
      for (const [k, list] of Object.entries(want.latencies)) {
        const l = k.startsWith('fault ') ? got.latencyUnderFaultMs[k.slice(6)] : got.latencyMs[k];
        expect(l).toMatchObject({ count: list.length, max: Math.round(Math.max(...list)) });
      }
    }), { numRuns: 400, seed: 7 });
  });
});
