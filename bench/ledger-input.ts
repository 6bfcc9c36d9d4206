/**
 * A realistic judge input at any scale, seeded, with the outcome of every alarm decided as it is
 * generated: the truth bench/ledger.bench.ts checks the ledger against (a fast wrong ledger is
 * worthless).
 *
 * The French mix (sim/model/fleet-plan.ts DEFAULT_FLEET_MIX) scaled to the fleet size, every device
 * alarm kind of its type over 9 virtual hours, and on top of the ordinary outcomes (on time, late,
 * dropped, duplicated, spurious, replayed, out of the window) the 2021 incident in small: a
 * black-hole over 15 % of the fleet for 40 minutes (so a mass_communication_loss is due, and its
 * recovery), a 15-minute partition of 2 % of it, and a few devices whose position history has a gap.
 *
 * The truth is the bench's own model of docs/RULES.md and verify/network.ts's fault rules, kept as
 * plain as a reader can check by eye: which fault windows an alarm overlaps, when a held alarm
 * reaches the feed, and what that makes it.
 */
import type { AlarmKind, DeviceType } from '../protocol/alarms.ts';
import type { FeedAlarm } from '../protocol/feed.ts';
import type { DeviceIngest } from '../protocol/provisioning.ts';
import { DEFAULT_SLA_MS, OFFLINE_TIMEOUT_MS } from '../sim/model/defaults.ts';
import { deviceIdOf, pairIdOf } from '../sim/model/fleet-plan.ts';
import { DEFAULT_FLEET_MIX } from '../sim/model/fleet-mix.ts';
import type { Expectation } from '../sim/model/oracle/oracle.ts';
import { rng, type Rng } from '../sim/model/random.ts';
import type { AbsenceEpisode, HealWatch } from '../verify/absence.ts';
import type { DeviceRecordState } from '../verify/completeness.ts';
import type { JudgeInput } from '../verify/judge.ts';
import type { LedgerCounts, Observation } from '../verify/ledger.ts';
import type { FaultWindow } from '../verify/network.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const OPERATOR = 'operator-1';
/** Speed 100, as the 2021 replay runs: scenarios/runner absenceTolerance and lateAllowance at that speed. */
const TOLERANCE_MS = 200 * SEC;
const LATE_ALLOWANCE_MS = 10 * MIN;

/** Device alarm kinds by device type (docs/RULES.md), with how often each comes relative to the others. */
const KINDS: Readonly<Record<DeviceType, readonly (readonly [AlarmKind, number])[]>> = {
  pse: [['communication_loss', 1], ['strap_tamper', 8], ['low_battery', 10], ['curfew_absence', 20], ['late_return', 20], ['home_unit_tamper', 6], ['home_unit_moved', 6], ['mains_power_loss', 10]],
  psem: [['communication_loss', 1], ['strap_tamper', 8], ['low_battery', 10], ['exclusion_zone_entry', 25], ['inclusion_zone_exit', 25], ['gps_loss', 15]],
  bar_perpetrator: [['communication_loss', 1], ['strap_tamper', 8], ['low_battery', 10], ['gps_loss', 15], ['bar_pre_alert', 30], ['bar_alert', 15]],
  bar_victim: [['communication_loss', 1], ['low_battery', 10], ['gps_loss', 15], ['victim_sos', 10]],
};

export type Bucket = LedgerCounts & { observed: number };

/** What the ledger must find, tallied as the outcomes were decided. */
export interface Truth {
  counts: Required<LedgerCounts>;
  perKind: Record<string, Bucket>;
  perDeviceType: Record<string, Bucket>;
  perFault: Record<string, Bucket>;
  /** Per kind, alarms seen and not under a fault / under one: what the latency summaries count. */
  latencyCount: Record<string, number>;
  latencyUnderFaultCount: Record<string, number>;
  /** Mass checks: the black-hole's outage, its loss and recovery on time; one mass alarm nothing called for. */
  mass: { episodes: number; onTime: number; recoveredOnTime: number; spurious: number };
  recordsMissing: number;
}

export interface Generated {
  readonly input: JudgeInput;
  readonly truth: Truth;
  readonly devices: number;
  readonly observations: number;
}

const zero = (): Bucket => ({ expected: 0, onTime: 0, late: 0, lateAllowed: 0, dropped: 0, duplicates: 0, spurious: 0, outOfWindow: 0, observed: 0 });

interface Fault {
  readonly w: FaultWindow;
  readonly heals: Map<string, HealWatch>;
}

interface Planned {
  readonly id: string;
  readonly type: DeviceType;
  readonly pairId: string | undefined;
  readonly zones: readonly [string, string] | undefined;
}

/** The fleet: the French mix scaled to `devices` (BAR pairs count twice). */
function fleet(devices: number): Planned[] {
  const total = DEFAULT_FLEET_MIX.pse + DEFAULT_FLEET_MIX.psem + 2 * DEFAULT_FLEET_MIX.bar;
  const bar = Math.max(1, Math.round((DEFAULT_FLEET_MIX.bar / total) * devices));
  const psem = Math.max(1, Math.round((DEFAULT_FLEET_MIX.psem / total) * devices));
  const pse = devices - psem - 2 * bar;
  const out: Planned[] = [];
  for (let i = 0; i < pse; i++) out.push({ id: deviceIdOf('pse', i), type: 'pse', pairId: undefined, zones: undefined });
  for (let i = 0; i < psem; i++) {
    const id = deviceIdOf('psem', i);
    out.push({ id, type: 'psem', pairId: undefined, zones: [`Z-X-${id}`, `Z-I-${id}`] });
  }
  for (let i = 0; i < bar; i++) {
    out.push({ id: deviceIdOf('bar_perpetrator', i), type: 'bar_perpetrator', pairId: pairIdOf(i), zones: undefined });
    out.push({ id: deviceIdOf('bar_victim', i), type: 'bar_victim', pairId: pairIdOf(i), zones: undefined });
  }
  return out;
}

function pickKind(r: Rng, type: DeviceType): AlarmKind {
  const list = KINDS[type];
  let total = 0;
  for (const [, w] of list) total += w;
  let x = r.next() * total;
  for (const [k, w] of list) {
    x -= w;
    if (x < 0) return k;
  }
  return (list[list.length - 1] as readonly [AlarmKind, number])[0];
}

export function generateJudgeInput(expected: number, seed = 2021): Generated {
  const start = Date.parse('2021-10-25T14:00:00Z');
  const end = start + 9 * HOUR;
  const devices = Math.max(60, Math.min(15_000, Math.round((expected * 3) / 200)));
  const plan = fleet(devices);
  const r = rng(seed, 'ledger-bench');
  const slaMs = DEFAULT_SLA_MS;

  const deviceTypes = new Map(plan.map((d) => [d.id, d.type as string]));
  const operatorOf = new Map(plan.map((d) => [d.id, OPERATOR]));
  const partnerOf = new Map<string, string>();
  for (let i = 0; i + 1 < plan.length; i++) {
    const [p, v] = [plan[i] as Planned, plan[i + 1] as Planned];
    if (p.type === 'bar_perpetrator' && v.type === 'bar_victim') {
      partnerOf.set(p.id, v.id);
      partnerOf.set(v.id, p.id);
    }
  }

  // ---- faults: who, and when each device's link came back and its backlog drained -------------
  const shuffled = [...plan];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [shuffled[i], shuffled[j]] = [shuffled[j] as Planned, shuffled[i] as Planned];
  }
  const makeFault = (name: string, kind: string, from: number, until: number, who: readonly Planned[]): Fault => {
    const healAt = new Map<string, number>();
    const heals = new Map<string, HealWatch>();
    for (const d of who) {
      const heal = until + r.between(0, 60 * SEC);
      const linkBackAt = heal + r.between(1 * SEC, 20 * SEC);
      healAt.set(d.id, heal);
      heals.set(d.id, { fault: name, deviceId: d.id, healAt: heal, need: 1, linkBackAt, drainedAt: linkBackAt + r.between(10 * SEC, 120 * SEC) });
    }
    return { w: { name, kind, from, until, devices: who.map((d) => d.id), healAt }, heals };
  };
  const nA = Math.max(8, Math.round(devices * 0.15));
  const nB = Math.max(2, Math.round(devices * 0.02));
  const faults = [
    makeFault('operator-outage', 'black-hole', start + 3 * HOUR, start + 3 * HOUR + 40 * MIN, shuffled.slice(0, nA)),
    makeFault('cell-partition', 'partition', start + 6 * HOUR, start + 6 * HOUR + 15 * MIN, shuffled.slice(nA, nA + nB)),
  ];
  const faultsOf = new Map<string, Fault[]>();
  for (const f of faults) for (const id of f.w.devices) faultsOf.set(id, [...(faultsOf.get(id) ?? []), f]);
  const watched = new Set(faultsOf.keys());
  const backOf = (f: Fault, id: string): number => {
    const w = f.heals.get(id) as HealWatch;
    return Math.max(w.healAt, w.drainedAt ?? w.linkBackAt ?? w.healAt);
  };

  // ---- the truth, tallied as outcomes are decided ------------------------------------------------
  const truth: Truth = {
    counts: { expected: 0, onTime: 0, late: 0, lateAllowed: 0, dropped: 0, duplicates: 0, spurious: 0, outOfWindow: 0, optionalSeen: 0 },
    perKind: {}, perDeviceType: {}, perFault: {}, latencyCount: {}, latencyUnderFaultCount: {},
    mass: { episodes: 1, onTime: 1, recoveredOnTime: 1, spurious: 1 }, recordsMissing: 0,
  };
  const tally = (kind: string, id: string, faultNames: readonly string[], field: keyof Bucket, n = 1): void => {
    const buckets = [truth.perKind[kind] ??= zero(), truth.perDeviceType[deviceTypes.get(id) ?? 'unknown'] ??= zero(), ...faultNames.map((f) => (truth.perFault[f] ??= zero()))];
    for (const b of buckets) b[field] += n;
  };

  const expectations: Expectation[] = [];
  const observations: Observation[] = [];
  const episodes: AbsenceEpisode[] = [];
  let alarmNo = 0;
  const observe = (e: { deviceId: string; kind: AlarmKind; seq: number; deviceTime: number; zoneId?: string | undefined; pairId?: string | undefined }, receivedAt: number, replays = true): void => {
    const alarmId = `AL-${++alarmNo}`;
    const alarm: FeedAlarm = { type: 'alarm', cursor: 0, alarmId, deviceId: e.deviceId, kind: e.kind, seq: e.seq, deviceTime: e.deviceTime, raisedAt: receivedAt - 120 };
    if (e.zoneId !== undefined) alarm.zoneId = e.zoneId;
    if (e.pairId !== undefined) alarm.pairId = e.pairId;
    observations.push({ alarm, receivedAt });
    // A replay after a feed resume: the same alarm id again, which is no new observation.
    if (replays && r.chance(0.001)) observations.push({ alarm, receivedAt: receivedAt + 5 * SEC });
  };

  /**
   * One expected alarm in the window: its outcome drawn, then what the faults do to it (verify/network.ts:
   * an alarm overlaps a fault window when due from an SLA before it until its unit's backlog is through;
   * one due while its unit was cut reaches the feed once that backlog drained).
   */
  const judgeExpected = (e: Expectation): void => {
    const sla = slaMs[e.kind];
    const units = e.pairId !== undefined ? [e.deviceId, partnerOf.get(e.deviceId) as string] : [e.deviceId];
    const names: string[] = [];
    let okUntil = -Infinity;
    let heldUntil = -Infinity;
    for (const f of faults) {
      for (const u of units) {
        const w = f.heals.get(u);
        if (!w) continue;
        const back = backOf(f, u);
        if (e.triggerTime < f.w.from - sla || e.triggerTime > back) continue;
        if (!names.includes(f.w.name)) names.push(f.w.name);
        if (e.kind === 'communication_loss') continue; // the pipeline's own silence detection is not held by the network
        okUntil = Math.max(okUntil, (w.linkBackAt as number) + LATE_ALLOWANCE_MS, back + sla);
        if (e.triggerTime >= f.w.from) heldUntil = Math.max(heldUntil, back);
      }
    }
    truth.counts.expected++;
    tally(e.kind, e.deviceId, names, 'expected');
    const x = r.next();
    if (x < 0.015) {
      truth.counts.dropped++;
      tally(e.kind, e.deviceId, names, 'dropped');
      return;
    }
    let receivedAt = e.triggerTime + (x < 0.035 ? sla + r.between(30 * SEC, 30 * MIN) : r.between(500, 0.8 * sla));
    if (receivedAt < heldUntil) receivedAt = heldUntil + r.between(0, 60 * SEC);
    const latency = receivedAt - e.triggerTime;
    const status: keyof Bucket = latency <= sla ? 'onTime' : names.length > 0 && okUntil > -Infinity && receivedAt <= okUntil ? 'lateAllowed' : 'late';
    truth.counts[status]++;
    tally(e.kind, e.deviceId, names, status);
    const latencies = names.length > 0 ? truth.latencyUnderFaultCount : truth.latencyCount;
    latencies[e.kind] = (latencies[e.kind] ?? 0) + 1;
    observe(e, receivedAt);
    let seen = 1;
    if (r.chance(0.02)) {
      observe(e, receivedAt + r.between(1 * SEC, 5 * MIN));
      truth.counts.duplicates++;
      tally(e.kind, e.deviceId, names, 'duplicates');
      seen++;
    }
    tally(e.kind, e.deviceId, names, 'observed', seen);
  };

  /** An alarm seen that is not expected: spurious inside the window, not judged outside it. */
  const unexpected = (a: { deviceId: string; kind: AlarmKind; seq: number; deviceTime: number; zoneId?: string | undefined; pairId?: string | undefined }, trigger: number): void => {
    observe(a, trigger + r.between(SEC, MIN));
    const status = trigger >= start && trigger <= end ? 'spurious' : 'outOfWindow';
    truth.counts[status]++;
    tally(a.kind, a.deviceId, [], status);
    tally(a.kind, a.deviceId, [], 'observed');
  };

  // ---- how many ordinary alarms each device has: exactly `expected` in the window, with the
  // required communication_loss of the devices the black-hole silenced ---------------------------
  const faultLoss = new Map<string, { required: boolean; fault: Fault }>();
  /** When each silence the black-hole made became due: the mass alarm follows the last. */
  const outageLosses: number[] = [];
  let requiredFaultLosses = 0;
  for (const f of faults) {
    for (const id of f.w.devices) {
      const required = !r.chance(0.04);
      faultLoss.set(id, { required, fault: f });
      if (required) requiredFaultLosses++;
    }
  }
  const perDevice = new Uint32Array(plan.length);
  for (let i = 0; i < expected - requiredFaultLosses; i++) perDevice[r.int(0, plan.length - 1)]! += 1;

  const ingest: Record<string, DeviceIngest> = {};
  const records: DeviceRecordState[] = [];
  plan.forEach((d, di) => {
    const my = faultsOf.get(d.id) ?? [];
    const quiet = (t: number): boolean => my.some((f) => t >= f.w.from - 30 * MIN && t <= backOf(f, d.id) + 30 * MIN);
    type Item = { kind: AlarmKind; deviceTime: number; triggerTime: number; episode?: { required: boolean; fault: Fault } };
    const items: Item[] = [];
    const n = perDevice[di] as number;
    for (let k = 0; k < n + (r.chance(0.05) ? 1 : 0); k++) {
      // the extra one, when drawn, is due during the drain, after the timeline: out of the window
      const t = k < n ? r.between(start, end) : end + r.between(SEC, 30 * MIN);
      let kind = pickKind(r, d.type);
      // Around a fault a device's silence is the fault's (below), not one of its own.
      while (kind === 'communication_loss' && (quiet(t) || (k >= n && watched.has(d.id)))) kind = pickKind(r, d.type);
      items.push({ kind, triggerTime: t, deviceTime: kind === 'communication_loss' ? t - OFFLINE_TIMEOUT_MS : t });
    }
    const fl = faultLoss.get(d.id);
    if (fl) {
      const last = fl.fault.w.from - r.between(0, 60 * SEC);
      items.push({ kind: 'communication_loss', deviceTime: last, triggerTime: last + OFFLINE_TIMEOUT_MS, episode: fl });
    }
    items.sort((a, b) => a.deviceTime - b.deviceTime);
    let seq = 0;
    for (const it of items) {
      seq += r.int(2, 12);
      const zoneId = it.kind === 'exclusion_zone_entry' ? d.zones?.[0] : it.kind === 'inclusion_zone_exit' ? d.zones?.[1] : undefined;
      const pairId = it.kind === 'bar_pre_alert' || it.kind === 'bar_alert' ? d.pairId : undefined;
      const e: Expectation = { deviceId: d.id, kind: it.kind, seq, deviceTime: it.deviceTime, triggerTime: it.triggerTime, ...(zoneId ? { zoneId } : {}), ...(pairId ? { pairId } : {}) };
      if (it.episode) {
        // The silence the black-hole made: judged from what the network forwarded (verify/absence.ts).
        const w = it.episode.fault.heals.get(d.id) as HealWatch;
        episodes.push({ deviceId: d.id, seq, deviceTime: it.deviceTime, triggerTime: it.triggerTime, required: it.episode.required, until: w.linkBackAt as number });
        if (it.episode.fault === faults[0]) outageLosses.push(it.triggerTime);
        if (it.episode.required) judgeExpected(e);
        else if (r.chance(0.5)) {
          observe(e, it.triggerTime + r.between(SEC, MIN));
          truth.counts.optionalSeen++;
          tally(e.kind, d.id, [], 'observed');
        }
        continue;
      }
      const silentUntil = it.triggerTime + r.between(1 * MIN, 20 * MIN);
      expectations.push(it.kind === 'communication_loss' ? { ...e, silentUntil } : e);
      if (it.kind === 'communication_loss' && watched.has(d.id)) {
        // A watched device's own silences are the network's episodes too, the same alarms.
        episodes.push({ deviceId: d.id, seq, deviceTime: it.deviceTime, triggerTime: it.triggerTime, required: true, until: silentUntil });
      }
      if (it.triggerTime > end) {
        if (r.chance(0.8)) unexpected(e, it.triggerTime);
        continue;
      }
      judgeExpected(e);
      // Now and then the pipeline raises, on the same record, an alarm of another kind nothing called for.
      if (!watched.has(d.id) && r.chance(0.003)) {
        let kind = pickKind(r, d.type);
        while (kind === it.kind || kind === 'communication_loss') kind = pickKind(r, d.type);
        const z = kind === 'exclusion_zone_entry' ? d.zones?.[0] : kind === 'inclusion_zone_exit' ? d.zones?.[1] : undefined;
        const p = kind === 'bar_pre_alert' || kind === 'bar_alert' ? d.pairId : undefined;
        unexpected({ deviceId: d.id, kind, seq, deviceTime: it.deviceTime, zoneId: z, pairId: p }, it.deviceTime);
      }
    }
    const lastSeq = seq + 40;
    records.push({ deviceId: d.id, lastSeq, ackedSeq: lastSeq, pendingSeqs: [], evicted: 0 });
    // A few devices under the black-hole lost part of their history (acked, then gone).
    if (fl && fl.fault === faults[0] && r.chance(0.01)) {
      const a = r.int(2, lastSeq - 20);
      const b = a + r.int(0, 15);
      ingest[d.id] = { contiguousSeq: a - 1, maxSeq: lastSeq, stored: lastSeq - (b - a + 1), gaps: [[a, b]] };
      truth.recordsMissing += b - a + 1;
    } else {
      ingest[d.id] = { contiguousSeq: lastSeq, maxSeq: lastSeq, stored: lastSeq, gaps: [] };
    }
  });

  // ---- mass: the black-hole silenced 15 % of the operator's devices, over the 10 % threshold -----
  const outage = faults[0] as Fault;
  const allSilent = Math.max(...outageLosses);
  const allBack = Math.max(...[...outage.heals.values()].map((w) => w.linkBackAt as number));
  // (No replays here: a replayed mass alarm nothing called for would be counted twice by spuriousMass.)
  const mass = (kind: AlarmKind, seq: number, at: number): void => observe({ deviceId: OPERATOR, kind, seq, deviceTime: at }, at + 20 * SEC, false);
  mass('mass_communication_loss', 1, allSilent + 10 * SEC);
  mass('mass_communication_recovery', 1, allBack + 10 * SEC);
  // And one the pipeline raised in a quiet hour: no outage calls for it.
  mass('mass_communication_loss', 2, start + 1 * HOUR);

  // The feed's order: cursors increase with arrival; a replay carries the cursor it had. Then each
  // observation is made again the way a run makes it, in arrival order, parsed from the feed's JSON
  // (its own strings, laid out in memory as they came); and each expectation as the oracle emits it,
  // in record-time order across the fleet.
  observations.sort((a, b) => a.receivedAt - b.receivedAt);
  let cursor = 0;
  const cursors = new Map<FeedAlarm, number>();
  const received = observations.map((o) => {
    const c = cursors.get(o.alarm) ?? ++cursor;
    cursors.set(o.alarm, c);
    return { alarm: JSON.parse(JSON.stringify({ ...o.alarm, cursor: c })) as FeedAlarm, receivedAt: o.receivedAt };
  });
  const emitted = expectations.sort((a, b) => a.deviceTime - b.deviceTime).map((e) => ({ ...e }));

  const input: JudgeInput = {
    faults: faults.map((f) => f.w), watched, episodes,
    heal: (fault, id) => faults.find((f) => f.w.name === fault)?.heals.get(id),
    operatorOf, partnerOf, expectations: emitted, observations: received, offlineTimeoutMs: OFFLINE_TIMEOUT_MS, toleranceMs: TOLERANCE_MS, lateAllowanceMs: LATE_ALLOWANCE_MS,
    window: { start, end }, finalAt: end + 30 * MIN, mass: { share: 0.1, minDevices: 5 }, slaMs,
    deviceTypes, devices: records, summary: { runId: 'bench', devices: ingest },
  };
  return { input, truth, devices: plan.length, observations: received.length };
}
