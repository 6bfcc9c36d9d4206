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
import type { Expectation } from '../sim/model/oracle/oracle.ts';
import { hashString } from '../sim/model/random.ts';
import { AlarmIndex } from './alarm-index.ts';

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
  /** The alarm of a real device on a serial port (run.json marks every entry of one). */
  readonly hil?: true | undefined;
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
  /** Every entry, whatever its outcome (on time too), of the devices `LedgerInput.keep` chose, in trigger-time order. */
  readonly kept: readonly LedgerEntry[];
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
  /**
   * Devices whose every entry the ledger keeps (`kept`), on-time ones too: a run's real devices.
   * Only failures and allowed lates are kept for the rest, which is what makes a million alarms cheap.
   */
  readonly keep?: (deviceId: string) => boolean;
}

/** RULES.md "Trigger time" of an alarm as the pipeline reported it. */
export function observedTriggerTime(a: FeedAlarm, offlineTimeoutMs: number): number {
  return a.kind === 'communication_loss' ? a.deviceTime + offlineTimeoutMs : a.deviceTime;
}

const iso = (t: number): string => new Date(t).toISOString();

function zeroCounts(): LedgerCounts {
  return { expected: 0, onTime: 0, late: 0, lateAllowed: 0, dropped: 0, duplicates: 0, spurious: 0, outOfWindow: 0 };
}

type Bucket = LedgerCounts & { observed: number };

/** A bucket's counters, by field index (a typed array: a million alarms bump it without a keyed lookup). */
type Tally = Float64Array;
const EXPECTED = 0;
const ON_TIME = 1;
const LATE = 2;
const LATE_ALLOWED = 3;
const DROPPED = 4;
const DUPLICATES = 5;
const SPURIOUS = 6;
const OUT_OF_WINDOW = 7;
const OBSERVED = 8;
const NO_FAULTS: readonly Tally[] = [];

/** The buckets per kind, device type and fault window, each made when first touched: the order the result lists them in. */
class Tallies {
  readonly kinds = new Map<string, Tally>();
  readonly types = new Map<string, Tally>();
  readonly faults = new Map<string, Tally>();
  /** By device number (AlarmIndex.deviceOf): its type's tally, without a lookup by id per alarm. */
  private readonly ofDevice: Tally[] = [];

  constructor(private readonly deviceTypes: ReadonlyMap<string, string> | undefined) {
    for (const k of ALARM_KINDS) this.kinds.set(k, new Float64Array(9));
  }

  kind(kind: string): Tally {
    return getOrMake(this.kinds, kind);
  }

  type(deviceNo: number, deviceId: string): Tally {
    let t = this.ofDevice[deviceNo];
    if (t === undefined) {
      t = getOrMake(this.types, this.deviceTypes?.get(deviceId) ?? 'unknown');
      this.ofDevice[deviceNo] = t;
    }
    return t;
  }

  fault(names: readonly string[] | undefined): readonly Tally[] {
    return names === undefined || names.length === 0 ? NO_FAULTS : names.map((f) => getOrMake(this.faults, f));
  }
}

function getOrMake(m: Map<string, Tally>, name: string): Tally {
  let t = m.get(name);
  if (t === undefined) {
    t = new Float64Array(9);
    m.set(name, t);
  }
  return t;
}

/** Counts one more (or n) in every bucket an alarm counts in: its kind's, its device type's, and each fault window's it overlapped. */
function bump(kind: Tally, type: Tally, faults: readonly Tally[], field: number, n = 1): void {
  kind[field] = kind[field]! + n;
  type[field] = type[field]! + n;
  for (const f of faults) f[field] = f[field]! + n;
}

function toBuckets(m: ReadonlyMap<string, Tally>): Record<string, Bucket> {
  const out: Record<string, Bucket> = {};
  for (const [name, t] of m) {
    out[name] = {
      expected: t[EXPECTED]!, onTime: t[ON_TIME]!, late: t[LATE]!, lateAllowed: t[LATE_ALLOWED]!, dropped: t[DROPPED]!,
      duplicates: t[DUPLICATES]!, spurious: t[SPURIOUS]!, outOfWindow: t[OUT_OF_WINDOW]!, observed: t[OBSERVED]!,
    };
  }
  return out;
}

/** The feed's order: by cursor, then arrival. Usually already so (the feed consumer appends as it reads): then no sort. */
function inFeedOrder(observations: readonly Observation[]): readonly Observation[] {
  const before = (a: Observation, b: Observation): number => a.alarm.cursor - b.alarm.cursor || a.receivedAt - b.receivedAt;
  for (let i = 1; i < observations.length; i++) {
    if (before(observations[i - 1] as Observation, observations[i] as Observation) > 0) return [...observations].sort(before);
  }
  return observations;
}

/**
 * Which observations may repeat an earlier one's alarm id: 1 where its id's 32-bit hash is shared.
 * Exact would be a Set of every id, but a Set of a million strings cost a third of the ledger's
 * time, and ids are nearly always all distinct (the feed consumer drops replays already): so the
 * hashes are sorted as numbers and only ids whose hash occurs twice go through the Set.
 */
function sharedHashes(observations: readonly Observation[]): Uint8Array {
  const hashes = new Uint32Array(observations.length);
  observations.forEach((o, i) => {
    hashes[i] = hashString(o.alarm.alarmId);
  });
  const sorted = hashes.slice().sort();
  const shared = new Set<number>();
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) shared.add(sorted[i] as number);
  const out = new Uint8Array(observations.length);
  if (shared.size > 0) {
    hashes.forEach((h, i) => {
      if (shared.has(h)) out[i] = 1;
    });
  }
  return out;
}

/** localeCompare's order, its collator built once. */
const byDevice = new Intl.Collator();

/**
 * Entries in trigger-time order, then by device, else as they came (a stable sort). The times are
 * copied into a typed array and their indices sorted: comparing scattered entry objects of several
 * shapes cost more than the rest of the ledger's sorting.
 */
function inTriggerOrder(entries: readonly LedgerEntry[]): LedgerEntry[] {
  const at = new Float64Array(entries.length);
  const order = new Uint32Array(entries.length);
  entries.forEach((e, i) => {
    at[i] = e.triggerTime;
    order[i] = i;
  });
  const device = (i: number): string => (entries[i] as LedgerEntry).deviceId;
  order.sort((p, q) => (at[p] as number) - (at[q] as number) || (device(p) === device(q) ? 0 : byDevice.compare(device(p), device(q))) || p - q);
  return Array.from(order, (i) => entries[i] as LedgerEntry);
}

/** What a ledger entry says of an expected alarm, before what happened to it. */
function entryOf(e: Expectation, excuse: LateExcuse | undefined): Omit<LedgerEntry, 'status' | 'detail'> {
  return { deviceId: e.deviceId, kind: e.kind, seq: e.seq, deviceTime: e.deviceTime, triggerTime: e.triggerTime, zoneId: e.zoneId, pairId: e.pairId, faults: excuse?.faults };
}

const during = (excuse: LateExcuse | undefined): string => (excuse ? ` during ${excuse.faults.join(', ')}` : '');

export function buildLedger(input: LedgerInput): Ledger {
  const { window, slaMs } = input;
  const inWindow = (t: number): boolean => t >= window.start && t <= window.end;
  const counts = zeroCounts();
  const tallies = new Tallies(input.deviceTypes);

  // Observations by alarm (verify/alarm-index.ts), first arrival first; a replay of an alarm id
  // after resume is not a new observation (the feed consumer already drops those, this keeps the
  // ledger safe alone). `first[slot]`: the first; `again`: the rest, under other alarm ids.
  const index = new AlarmIndex();
  const first: Observation[] = [];
  const again = new Map<number, Observation[]>();
  const ordered = inFeedOrder(input.observations);
  const mayRepeat = sharedHashes(ordered);

  const ids = new Set<string>();
  for (let i = 0; i < ordered.length; i++) {
    const o = ordered[i] as Observation;
    if (mayRepeat[i] === 1) {
      if (ids.has(o.alarm.alarmId)) continue;
      ids.add(o.alarm.alarmId);
    }
    const slot = index.slot(o.alarm);
    if (slot === first.length) first.push(o);
    else {
      const list = again.get(slot);
      if (list) list.push(o);
      else again.set(slot, [o]);
    }
  }
  const observedSlots = first.length;
  const seenAll = (slot: number): Observation[] => [first[slot] as Observation, ...(again.get(slot) ?? [])];

  const failures: LedgerEntry[] = [];
  const lateAllowed: LedgerEntry[] = [];
  const kept: LedgerEntry[] = [];
  const keep = input.keep;
  const fail = (entry: LedgerEntry): void => {
    failures.push(entry);
    if (keep?.(entry.deviceId)) kept.push(entry);
  };
  const latencies = new Map<string, number[]>();
  /** Alarms due under a fault: their latency is the fault's, reported apart and judged by the allowance, not the SLA. */
  const faultLatencies = new Map<string, number[]>();
  /** Slots of the expected alarms in the window (a slot past observedSlots was never observed). */
  const expected = new Uint8Array(observedSlots + input.expectations.length);

  for (const e of input.expectations) {
    if (!inWindow(e.triggerTime)) continue;
    const slot = index.slot(e);
    if (expected[slot] === 1) continue;
    expected[slot] = 1;
    const excuse = input.excuse?.(e);
    const kt = tallies.kind(e.kind);
    const tt = tallies.type(index.deviceOf(slot), e.deviceId);
    const ft = tallies.fault(excuse?.faults);
    counts.expected++;
    bump(kt, tt, ft, EXPECTED);
    if (slot >= observedSlots) {
      counts.dropped++;
      bump(kt, tt, ft, DROPPED);
      fail({ ...entryOf(e, excuse), status: 'dropped', detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}, due ${iso(e.triggerTime)}${during(excuse)}) never reached the operator feed` });
      continue;
    }
    const o = first[slot] as Observation;
    const dups = again.get(slot);
    const latency = o.receivedAt - e.triggerTime;
    bump(kt, tt, ft, OBSERVED, 1 + (dups?.length ?? 0));
    const into = excuse ? faultLatencies : latencies;
    let list = into.get(e.kind);
    if (list === undefined) {
      list = [];
      into.set(e.kind, list);
    }
    list.push(Math.max(0, latency));
    const sla = slaMs[e.kind];
    if (latency <= sla) {
      counts.onTime++;
      bump(kt, tt, ft, ON_TIME);
      if (keep?.(e.deviceId)) {
        kept.push({ ...entryOf(e, excuse), alarmId: o.alarm.alarmId, receivedAt: o.receivedAt, latencyMs: latency, status: 'on_time', detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}) reached the feed ${fmtMs(latency)} after its trigger, within its SLA of ${fmtMs(sla)}` });
      }
    } else if (excuse && o.receivedAt <= excuse.lateOkUntil) {
      counts.lateAllowed++;
      bump(kt, tt, ft, LATE_ALLOWED);
      const entry: LedgerEntry = { ...entryOf(e, excuse), alarmId: o.alarm.alarmId, receivedAt: o.receivedAt, latencyMs: latency, status: 'late_allowed', detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}) reached the feed ${fmtMs(latency)} after its trigger${during(excuse)}, within the allowance after its link came back` };
      lateAllowed.push(entry);
      if (keep?.(e.deviceId)) kept.push(entry);
    } else {
      counts.late++;
      bump(kt, tt, ft, LATE);
      const beyond = !excuse ? '' : Number.isFinite(excuse.lateOkUntil)
        ? `, and ${fmtMs(o.receivedAt - excuse.lateOkUntil)} past the allowance after its link came back`
        : ': a network fault does not excuse detecting a silence late';
      fail({ ...entryOf(e, excuse), alarmId: o.alarm.alarmId, receivedAt: o.receivedAt, latencyMs: latency, status: 'late', detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}) reached the feed ${fmtMs(latency)} after its trigger${during(excuse)}, SLA ${fmtMs(sla)}${beyond}` });
    }
    for (const dup of dups ?? []) {
      counts.duplicates++;
      bump(kt, tt, ft, DUPLICATES);
      fail({
        ...entryOf(e, excuse), status: 'duplicate', alarmId: dup.alarm.alarmId, receivedAt: dup.receivedAt, latencyMs: dup.receivedAt - e.triggerTime,
        detail: `${e.kind} of ${e.deviceId} (seq ${e.seq}) raised again as ${dup.alarm.alarmId} (first: ${o.alarm.alarmId})`,
      });
    }
  }

  const optional = new Uint8Array(observedSlots);
  for (const e of input.optional ?? []) {
    const slot = index.find(e);
    if (slot >= 0 && slot < observedSlots) optional[slot] = 1;
  }
  let optionalSeen = 0;
  for (let slot = 0; slot < observedSlots; slot++) {
    if (expected[slot] === 1) continue;
    const obs = seenAll(slot);
    if (optional[slot] === 1) {
      optionalSeen += obs.length;
      for (const o of obs) bump(tallies.kind(o.alarm.kind), tallies.type(index.deviceOf(slot), o.alarm.deviceId), NO_FAULTS, OBSERVED);
      continue;
    }
    for (const o of obs) {
      const a = o.alarm;
      const trigger = observedTriggerTime(a, input.offlineTimeoutMs);
      const kt = tallies.kind(a.kind);
      const tt = tallies.type(index.deviceOf(slot), a.deviceId);
      bump(kt, tt, NO_FAULTS, OBSERVED);
      if (!inWindow(trigger)) {
        counts.outOfWindow++;
        bump(kt, tt, NO_FAULTS, OUT_OF_WINDOW);
        continue;
      }
      counts.spurious++;
      bump(kt, tt, NO_FAULTS, SPURIOUS);
      fail({
        status: 'spurious', deviceId: a.deviceId, kind: a.kind, seq: a.seq, deviceTime: a.deviceTime, triggerTime: trigger, zoneId: a.zoneId, pairId: a.pairId,
        alarmId: a.alarmId, receivedAt: o.receivedAt, latencyMs: o.receivedAt - trigger,
        detail: `${a.kind} of ${a.deviceId} (seq ${a.seq}, alarm ${a.alarmId}) was raised but nothing that happened calls for it`,
      });
    }
  }


  const latencyMs: Record<string, LatencySummary> = {};
  for (const k of ALARM_KINDS) latencyMs[k] = summarise(latencies.get(k) ?? [], slaMs[k]);
  const latencyUnderFaultMs: Record<string, LatencySummary> = {};
  for (const [k, list] of faultLatencies) latencyUnderFaultMs[k] = summarise(list, slaMs[k as AlarmKind]);

  return {
    counts: { ...counts, optionalSeen }, perKind: toBuckets(tallies.kinds), perDeviceType: toBuckets(tallies.types), perFault: toBuckets(tallies.faults),
    latencyMs, latencyUnderFaultMs, failures: inTriggerOrder(failures), lateAllowed: inTriggerOrder(lateAllowed), kept: inTriggerOrder(kept),
  };
}

/** Latency quantiles with HdrHistogram (3 significant digits), max exact. Also the live dashboard's latency so far (reports/dashboard/). */
export function summarise(values: readonly number[], slaMs: number): LatencySummary {
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
