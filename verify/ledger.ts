/**
 * The ledger: every expected alarm against what the operator feed showed (DESIGN.md "The ledger").
 *
 * For each expected alarm: on time (latency ≤ SLA of its kind), late, dropped (not seen by the end
 * of the drain), duplicate (seen again under another alarm id); each observed alarm nobody expected
 * is spurious. Latency = virtual time it reached the feed − its trigger time (docs/RULES.md).
 * Pure: the same function verifies a live run and a journal replayed after a crash.
 */
import hdr from 'hdr-histogram-js';
import type { AlarmKind } from '../protocol/alarms.ts';
import { ALARM_KINDS } from '../protocol/alarms.ts';
import type { FeedAlarm } from '../protocol/feed.ts';
import { alarmKey, type Expectation } from '../sim/model/oracle/oracle.ts';

export interface Observation {
  readonly alarm: FeedAlarm;
  /** Virtual time at which the harness received it from the feed. */
  readonly receivedAt: number;
}

export type EntryStatus = 'on_time' | 'late' | 'late_allowed' | 'dropped' | 'duplicate' | 'spurious';

export interface LedgerEntry {
  readonly status: EntryStatus;
  readonly deviceId: string;
  readonly kind: string;
  readonly seq: number;
  readonly deviceTime: number;
  readonly triggerTime: number;
  readonly zoneId?: string | undefined;
  readonly pairId?: string | undefined;
  readonly alarmId?: string | undefined;
  readonly receivedAt?: number | undefined;
  readonly latencyMs?: number | undefined;
  /** The fault windows the alarm overlapped (its device's link was faulted when it was due). */
  readonly faults?: readonly string[] | undefined;
  /** A sentence for a person: what happened to this alarm. */
  readonly detail: string;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly slaMs: number;
}

export interface LedgerCounts {
  expected: number;
  onTime: number;
  late: number;
  /** Late, but because its device's link was down: within the allowance after the link came back. */
  lateAllowed: number;
  dropped: number;
  duplicates: number;
  spurious: number;
  /** Observed alarms whose trigger time lies outside the run window: neither expected nor spurious. */
  outOfWindow: number;
  /** Observed alarms that were optional (an absence at the tolerance boundary). */
  optionalSeen?: number;
}

export interface Ledger {
  readonly counts: LedgerCounts;
  readonly perKind: Readonly<Record<string, LedgerCounts & { observed: number }>>;
  /** The same counts per device type (pse, psem, bar_perpetrator, bar_victim). */
  readonly perDeviceType: Readonly<Record<string, LedgerCounts & { observed: number }>>;
  /** The same counts per fault window, for the expected alarms that overlapped it. */
  readonly perFault: Readonly<Record<string, LedgerCounts & { observed: number }>>;
  /** Per kind, alarms not due under a fault: judged against the SLA. */
  readonly latencyMs: Readonly<Record<string, LatencySummary>>;
  /** Per kind, alarms due under a fault window (delayed by it; judged by the late allowance). */
  readonly latencyUnderFaultMs: Readonly<Record<string, LatencySummary>>;
  /** Every alarm that was not on time or not expected, in trigger-time order. */
  readonly failures: readonly LedgerEntry[];
  /** Alarms late because of a fault, within its allowance: not failures, but each named with its delay. */
  readonly lateAllowed: readonly LedgerEntry[];
}

/** Why an alarm may be late: the fault windows it overlapped and until when lateness is accepted. */
export interface LateExcuse {
  readonly faults: readonly string[];
  /** Virtual ms: the device's link came back, plus the scenario's allowance. */
  readonly lateOkUntil: number;
}

export interface LedgerInput {
  readonly expectations: readonly Expectation[];
  readonly observations: readonly Observation[];
  /** The run window, virtual ms: alarms whose trigger time lies inside it are judged. */
  readonly window: { readonly start: number; readonly end: number };
  readonly slaMs: Readonly<Record<AlarmKind, number>>;
  readonly offlineTimeoutMs: number;
  /** Device id → device type, for the per-type counts. */
  readonly deviceTypes?: ReadonlyMap<string, string>;
  /** Alarms that may or may not come (an absence at the tolerance boundary): seen, they are neither expected nor spurious. */
  readonly optional?: readonly Expectation[];
  /** Fault windows an expected alarm overlapped, and the allowance for lateness they give. */
  readonly excuse?: (e: Expectation) => LateExcuse | undefined;
}

/** RULES.md "Trigger time" of an alarm as the pipeline reported it. */
export function observedTriggerTime(a: FeedAlarm, offlineTimeoutMs: number): number {
  return a.kind === 'communication_loss' ? a.deviceTime + offlineTimeoutMs : a.deviceTime;
}

const iso = (t: number): string => new Date(t).toISOString();

function zeroCounts(): LedgerCounts {
  return { expected: 0, onTime: 0, late: 0, lateAllowed: 0, dropped: 0, duplicates: 0, spurious: 0, outOfWindow: 0 };
}

export function buildLedger(input: LedgerInput): Ledger {
  const { window, slaMs } = input;
  const inWindow = (t: number): boolean => t >= window.start && t <= window.end;
  const counts = zeroCounts();
  type Bucket = LedgerCounts & { observed: number };
  const perKind: Record<string, Bucket> = {};
  const perDeviceType: Record<string, Bucket> = {};
  const perFault: Record<string, Bucket> = {};
  for (const k of ALARM_KINDS) perKind[k] = { ...zeroCounts(), observed: 0 };
  /** Every bucket an alarm of (kind, device) counts in: the kind's, the device type's, and each fault window's it overlapped. */
  const bucketsOf = (kind: string, deviceId: string, faults: readonly string[] = []): Bucket[] => {
    const type = input.deviceTypes?.get(deviceId) ?? 'unknown';
    return [
      (perKind[kind] ??= { ...zeroCounts(), observed: 0 }), (perDeviceType[type] ??= { ...zeroCounts(), observed: 0 }),
      ...faults.map((f) => (perFault[f] ??= { ...zeroCounts(), observed: 0 })),
    ];
  };
  const bump = (buckets: Bucket[], field: keyof Bucket, n = 1): void => {
    for (const b of buckets) b[field] += n;
  };

  // Observations by alarm key, first arrival first; a replay of an alarm id after resume is not a
  // new observation (the feed consumer already drops those, this keeps the ledger safe alone).
  const seen = new Map<string, Observation[]>();
  const ids = new Set<string>();
  for (const o of [...input.observations].sort((a, b) => a.alarm.cursor - b.alarm.cursor || a.receivedAt - b.receivedAt)) {
    if (ids.has(o.alarm.alarmId)) continue;
    ids.add(o.alarm.alarmId);
    const key = alarmKey(o.alarm);
    const list = seen.get(key);
    if (list) list.push(o);
    else seen.set(key, [o]);
  }

  const failures: LedgerEntry[] = [];
  const lateAllowed: LedgerEntry[] = [];
  const latencies = new Map<string, number[]>();
  /** Alarms due under a fault: their latency is the fault's, reported apart and judged by the allowance, not the SLA. */
  const faultLatencies = new Map<string, number[]>();
  const expectedKeys = new Set<string>();

  for (const e of input.expectations) {
    if (!inWindow(e.triggerTime)) continue;
    const key = alarmKey(e);
    if (expectedKeys.has(key)) continue;
    expectedKeys.add(key);
    const excuse = input.excuse?.(e);
    const kc = bucketsOf(e.kind, e.deviceId, excuse?.faults);
    counts.expected++;
    bump(kc, 'expected');
    const base = { deviceId: e.deviceId, kind: e.kind, seq: e.seq, deviceTime: e.deviceTime, triggerTime: e.triggerTime, zoneId: e.zoneId, pairId: e.pairId, faults: excuse?.faults };
    const during = excuse ? ` during ${excuse.faults.join(', ')}` : '';
    const obs = seen.get(key);
    if (!obs || obs.length === 0) {
      counts.dropped++;
      bump(kc, 'dropped');
      failures.push({ ...base, status: 'dropped', detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}, due ${iso(e.triggerTime)}${during}) never reached the operator feed` });
      continue;
    }
    const first = obs[0] as Observation;
    const latency = first.receivedAt - e.triggerTime;
    bump(kc, 'observed', obs.length);
    const into = excuse ? faultLatencies : latencies;
    const list = into.get(e.kind) ?? [];
    list.push(Math.max(0, latency));
    into.set(e.kind, list);
    const sla = slaMs[e.kind];
    const seenAt = { alarmId: first.alarm.alarmId, receivedAt: first.receivedAt, latencyMs: latency };
    if (latency <= sla) {
      counts.onTime++;
      bump(kc, 'onTime');
    } else if (excuse && first.receivedAt <= excuse.lateOkUntil) {
      counts.lateAllowed++;
      bump(kc, 'lateAllowed');
      lateAllowed.push({ ...base, ...seenAt, status: 'late_allowed', detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}) reached the feed ${fmtMs(latency)} after its trigger${during}, within the allowance after its link came back` });
    } else {
      counts.late++;
      bump(kc, 'late');
      const beyond = excuse ? `, and ${fmtMs(first.receivedAt - excuse.lateOkUntil)} past the allowance after its link came back` : '';
      failures.push({ ...base, ...seenAt, status: 'late', detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}) reached the feed ${fmtMs(latency)} after its trigger${during}, SLA ${fmtMs(sla)}${beyond}` });
    }
    for (const dup of obs.slice(1)) {
      counts.duplicates++;
      bump(kc, 'duplicates');
      failures.push({
        ...base, status: 'duplicate', alarmId: dup.alarm.alarmId, receivedAt: dup.receivedAt, latencyMs: dup.receivedAt - e.triggerTime,
        detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}) raised again as ${dup.alarm.alarmId} (first: ${first.alarm.alarmId})`,
      });
    }
  }

  const optionalKeys = new Set((input.optional ?? []).map(alarmKey));
  let optionalSeen = 0;
  for (const [key, obs] of seen) {
    if (expectedKeys.has(key)) continue;
    if (optionalKeys.has(key)) {
      optionalSeen += obs.length;
      for (const o of obs) bump(bucketsOf(o.alarm.kind, o.alarm.deviceId), 'observed');
      continue;
    }
    for (const o of obs) {
      const a = o.alarm;
      const trigger = observedTriggerTime(a, input.offlineTimeoutMs);
      const kc = bucketsOf(a.kind, a.deviceId);
      bump(kc, 'observed');
      if (!inWindow(trigger)) {
        counts.outOfWindow++;
        bump(kc, 'outOfWindow');
        continue;
      }
      counts.spurious++;
      bump(kc, 'spurious');
      failures.push({
        status: 'spurious', deviceId: a.deviceId, kind: a.kind, seq: a.seq, deviceTime: a.deviceTime, triggerTime: trigger, zoneId: a.zoneId, pairId: a.pairId,
        alarmId: a.alarmId, receivedAt: o.receivedAt, latencyMs: o.receivedAt - trigger,
        detail: `${a.kind} of ${a.deviceId} (seq ${a.seq}, alarm ${a.alarmId}) was raised but nothing that happened calls for it`,
      });
    }
  }

  failures.sort((a, b) => a.triggerTime - b.triggerTime || a.deviceId.localeCompare(b.deviceId));
  const latencyMs: Record<string, LatencySummary> = {};
  for (const k of ALARM_KINDS) latencyMs[k] = summarise(latencies.get(k) ?? [], slaMs[k]);
  const latencyUnderFaultMs: Record<string, LatencySummary> = {};
  for (const [k, list] of faultLatencies) latencyUnderFaultMs[k] = summarise(list, slaMs[k as AlarmKind]);
  lateAllowed.sort((a, b) => a.triggerTime - b.triggerTime || a.deviceId.localeCompare(b.deviceId));
  return { counts: { ...counts, optionalSeen }, perKind, perDeviceType, perFault, latencyMs, latencyUnderFaultMs, failures, lateAllowed };
}

/** Latency quantiles with HdrHistogram (3 significant digits), max exact. */
function summarise(values: readonly number[], slaMs: number): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, slaMs };
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 30 * 86_400_000, numberOfSignificantValueDigits: 3 });
  let max = 0;
  for (const v of values) {
    h.recordValue(Math.max(1, Math.round(v)));
    max = Math.max(max, v);
  }
  const q = (p: number): number => Math.min(h.getValueAtPercentile(p), max);
  const out = { count: values.length, p50: q(50), p95: q(95), p99: q(99), max: Math.round(max), slaMs };
  h.destroy();
  return out;
}

export function fmtMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${s % 60} s`;
}
