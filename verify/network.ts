/**
 * The ledger under faults (issue 4): what the faults change in what must be judged, and how each
 * fault window and absence check came out. Pure, like the ledger: inputs are what the run recorded.
 *
 * - Devices a fault touched get their communication_loss expectations from verify/absence.ts (what
 *   the network forwarded), in place of the oracle's (what the devices made).
 * - An expected alarm overlaps a fault window when it became due while its device (or, for a BAR
 *   distance alarm, either unit of its pair) was under the fault, or after the heal while the
 *   backlog made before it was still going through; it may then be late until the device's link
 *   came back plus the scenario's allowance (or its SLA after the backlog was through, if later).
 * - Mass communication loss is judged per operator outage (verify/absence.ts "Mass").
 */
import { isFleetAlarmKind, type AlarmKind } from '../protocol/alarms.ts';
import type { Expectation } from '../sim/model/oracle/oracle.ts';
import { drainedBy, massEpisodes, openIntervals, type AbsenceEpisode, type HealWatch, type MassEpisode } from './absence.ts';
import { fmtMs, type LateExcuse, type Ledger, type Observation } from './ledger.ts';

/** Faults that impair the pipeline itself: while one lasts, the pipeline cannot detect a silence in time. */
const PIPELINE_SIDE_FAULTS: ReadonlySet<string> = new Set(['pipeline-restart', 'slow-consumer']);
/** The faults under which the pipeline, up, hears talking devices late (see prepareNetwork). */
const DEAF_PIPELINE_FAULTS: ReadonlySet<string> = new Set(['slow-consumer', 'broker-restart']);

/** The communication_loss an absence episode calls for. */
const toExpectation = (e: AbsenceEpisode): Expectation => ({ deviceId: e.deviceId, kind: 'communication_loss', seq: e.seq, deviceTime: e.deviceTime, triggerTime: e.triggerTime });

export interface FaultWindow {
  readonly name: string;
  readonly kind: string;
  readonly from: number;
  readonly until: number;
  readonly devices: readonly string[];
  /** Device → when the fault was healed for it. */
  readonly healAt: ReadonlyMap<string, number>;
}

export interface NetworkInput {
  readonly faults: readonly FaultWindow[];
  /** The devices the faults touched: their communication_loss is judged from what the network forwarded. */
  readonly watched: ReadonlySet<string>;
  /** Their silence episodes (verify/absence.ts SilenceTracker). */
  readonly episodes: readonly AbsenceEpisode[];
  /** When a device's link came back and its backlog drained after a fault's heal. */
  readonly heal: (fault: string, deviceId: string) => HealWatch | undefined;
  readonly operatorOf: ReadonlyMap<string, string>;
  /** BAR unit → the other unit of its pair. */
  readonly partnerOf: ReadonlyMap<string, string>;
  readonly expectations: readonly Expectation[];
  readonly observations: readonly Observation[];
  readonly offlineTimeoutMs: number;
  readonly toleranceMs: number;
  readonly lateAllowanceMs: number;
  readonly window: { readonly start: number; readonly end: number };
  readonly finalAt: number;
  readonly mass: { readonly share: number; readonly minDevices: number };
  readonly slaMs: Readonly<Record<AlarmKind, number>>;
}

export interface MassCheck {
  readonly operator: string;
  readonly episode: MassEpisode;
  readonly status: 'on_time' | 'late' | 'missing' | 'optional';
  readonly lossAlarmId?: string | undefined;
  readonly lossReceivedAt?: number | undefined;
  /** receivedAt − trigger. */
  readonly latencyMs?: number | undefined;
  readonly recovery: 'on_time' | 'late' | 'missing' | 'not_due';
  readonly recoveryReceivedAt?: number | undefined;
  readonly detail: string;
}

export interface Prepared {
  /** What the ledger judges alarm by alarm. */
  readonly expectations: Expectation[];
  readonly optional: Expectation[];
  readonly observations: Observation[];
  readonly excuse: (e: Expectation) => LateExcuse | undefined;
  readonly episodes: AbsenceEpisode[];
  readonly mass: MassCheck[];
  /** Mass alarms that match no outage. */
  readonly spuriousMass: Observation[];
}

const iso = (t: number): string => (Number.isFinite(t) ? new Date(t).toISOString() : 'never');

export function prepareNetwork(n: NetworkInput): Prepared {
  const { watched } = n;

  // A pipeline that hears the devices late may count a talking device as silent: a slow pipeline
  // (the slow-consumer fault), and one whose broker restarted (broker-restart: cut off while it is
  // down, then behind the fleet's redials and backlog; and what the proxies forwarded as the broker
  // stopped may never have reached it). A communication_loss it raises then, and the mass alarm
  // that follows, are the fault's consequence — neither required nor spurious, and reported with
  // the window. A silence the proxies saw stays required.
  const deafWindows = n.faults.filter((f) => DEAF_PIPELINE_FAULTS.has(f.kind)).map((f) => [f.from, Math.max(...f.healAt.values()) + n.offlineTimeoutMs + n.toleranceMs] as const);
  const inDeaf = (t: number): boolean => deafWindows.some(([a, b]) => t >= a && t <= b);

  // One pass over what the feed showed (a million alarms in a big run) for everything below needs
  // of it: the device alarms the ledger judges, the mass alarms, the communication_loss alarms of
  // watched devices by device, and those a deaf pipeline may have raised.
  const observations: Observation[] = [];
  const massObs: Observation[] = [];
  const lossObs = new Map<string, Observation[]>();
  const deafLosses: Observation[] = [];
  for (const o of n.observations) {
    const a = o.alarm;
    if (isFleetAlarmKind(a.kind)) {
      massObs.push(o);
      continue;
    }
    observations.push(o);
    if (a.kind !== 'communication_loss') continue;
    if (watched.has(a.deviceId)) {
      const list = lossObs.get(a.deviceId);
      if (list) list.push(o);
      else lossObs.set(a.deviceId, [o]);
    }
    if (deafWindows.length > 0 && inDeaf(a.deviceTime + n.offlineTimeoutMs)) deafLosses.push(o);
  }

  // The pipeline may have heard a little less than the proxy forwarded: records in flight past the
  // proxy when a broker died never arrive. An alarm naming an earlier record of the same device,
  // made within the tolerance before the proxy's last, is the same silence seen from the pipeline.
  // An alarm naming another episode's own record is that episode's, never a stand-in.
  const episodeKeys = new Set(n.episodes.map((e) => `${e.deviceId}|${e.seq}`));
  const claimed = new Set([...lossObs.values()].flat().filter((o) => episodeKeys.has(`${o.alarm.deviceId}|${o.alarm.seq}`)).map((o) => o.alarm.alarmId));
  const seenAs = (e: AbsenceEpisode): AbsenceEpisode => {
    const mine = lossObs.get(e.deviceId) ?? [];
    if (mine.some((o) => o.alarm.seq === e.seq)) return e;
    const near = mine.find((o) => !claimed.has(o.alarm.alarmId) && o.alarm.seq < e.seq && o.alarm.deviceTime >= e.deviceTime - n.toleranceMs);
    if (!near) return e;
    claimed.add(near.alarm.alarmId);
    return { ...e, seq: near.alarm.seq, deviceTime: near.alarm.deviceTime, triggerTime: near.alarm.deviceTime + (e.triggerTime - e.deviceTime) };
  };
  const episodes = n.episodes.map(seenAs);
  // The oracle's expectations, but the communication_loss of watched devices: theirs are the episodes'.
  const expectations: Expectation[] = [];
  const oracleLosses: Expectation[] = [];
  for (const e of n.expectations) {
    if (e.kind === 'communication_loss') {
      if (watched.has(e.deviceId)) continue;
      oracleLosses.push(e);
    }
    expectations.push(e);
  }
  for (const e of episodes) if (e.required) expectations.push(toExpectation(e));
  const optional = [
    ...episodes.filter((e) => !e.required).map(toExpectation),
    ...deafLosses.map((o): Expectation => ({ deviceId: o.alarm.deviceId, kind: 'communication_loss', seq: o.alarm.seq, deviceTime: o.alarm.deviceTime, triggerTime: o.alarm.deviceTime + n.offlineTimeoutMs })),
  ];

  // Link back: the first uplink forwarded at or after the device's heal.
  const linkBack = (fault: string, deviceId: string, healAt: number): number => n.heal(fault, deviceId)?.linkBackAt ?? healAt;
  // The devices some fault touched: the ledger asks for an excuse for every expected alarm, and most
  // are of devices no fault touched.
  const faulted = new Set<string>();
  for (const f of n.faults) for (const id of f.healAt.keys()) faulted.add(id);
  // A pipeline that was down or slow catches up on the whole fleet's backlog: until every device's
  // is through, any alarm waits behind it, a silent device's too (its own backlog is empty).
  const caughtUp = new Map<string, number>();
  const pipelineCaughtUp = (f: FaultWindow): number => {
    let at = caughtUp.get(f.name);
    if (at === undefined) {
      at = f.until;
      for (const [u, heal] of f.healAt) {
        const w = n.heal(f.name, u);
        at = Math.max(at, heal, (w && drainedBy(w)) ?? w?.linkBackAt ?? heal);
      }
      caughtUp.set(f.name, at);
    }
    return at;
  };
  const excuse = (e: Expectation): LateExcuse | undefined => {
    const partner = e.pairId ? n.partnerOf.get(e.deviceId) : undefined;
    if (!faulted.has(e.deviceId) && (partner === undefined || !faulted.has(partner))) return undefined;
    const units = partner === undefined ? [e.deviceId] : [e.deviceId, partner];
    let names: string[] | undefined;
    let okUntil = -Infinity;
    for (const f of n.faults) {
      const pipelineSide = PIPELINE_SIDE_FAULTS.has(f.kind);
      for (const u of units) {
        const heal = f.healAt.get(u);
        if (heal === undefined) continue;
        // Until the backlog made before the heal is through, a new record waits behind it: an
        // alarm due then is the fault's too.
        const w = n.heal(f.name, u);
        const own = Math.max(heal, (w && drainedBy(w)) ?? w?.linkBackAt ?? heal);
        const back = pipelineSide ? Math.max(own, pipelineCaughtUp(f)) : own;
        // A silence of a faulted device must still be detected within its SLA under a network fault:
        // the fault is its cause, not an excuse. A pipeline that was down or reading slowly counts a
        // silence from when it caught up (docs/RULES.md "Watching since" and the re-arm R: a record
        // received only then re-arms the rule), so it owes the alarm by then + offlineTimeout + SLA.
        const loss = e.kind === 'communication_loss';
        const windowEnd = loss && pipelineSide ? back + n.offlineTimeoutMs : back;
        if (e.triggerTime < f.from - n.slaMs[e.kind] || e.triggerTime > windowEnd) continue;
        names ??= [];
        if (!names.includes(f.name)) names.push(f.name);
        if (!loss) okUntil = Math.max(okUntil, linkBack(f.name, u, heal) + n.lateAllowanceMs, back + n.slaMs[e.kind]);
        else if (pipelineSide) okUntil = Math.max(okUntil, back + n.offlineTimeoutMs + n.slaMs.communication_loss);
      }
    }
    return names ? { faults: names, lateOkUntil: okUntil } : undefined;
  };

  // Mass: per operator, from every open communication_loss the run implies.
  const intervals = openIntervals(episodes, oracleLosses, n.toleranceMs);
  const sizes = new Map<string, number>();
  for (const op of n.operatorOf.values()) sizes.set(op, (sizes.get(op) ?? 0) + 1);
  massObs.sort((a, b) => a.receivedAt - b.receivedAt);
  const used = new Set<string>();
  const mass: MassCheck[] = [];
  for (const [op, size] of sizes) {
    const ivs = [...intervals].filter(([id]) => n.operatorOf.get(id) === op).flatMap(([, list]) => list);
    for (const ep of massEpisodes(op, size, ivs, { ...n.mass, slaMs: n.slaMs.mass_communication_loss, end: n.window.end })) {
      mass.push(judgeMass(ep, massObs, used, n));
    }
  }
  // A mass alarm raised after the timeline (every device falls silent once the run stops recording) is out of window.
  const spuriousMass = massObs.filter((o) => !used.has(o.alarm.alarmId) && o.alarm.deviceTime <= n.window.end && !inDeaf(o.alarm.deviceTime));
  return { expectations, optional, observations, excuse, episodes, mass, spuriousMass };
}

function judgeMass(ep: MassEpisode, obs: readonly Observation[], used: Set<string>, n: NetworkInput): MassCheck {
  const sla = n.slaMs.mass_communication_loss;
  const recSla = n.slaMs.mass_communication_recovery;
  const mine = obs.filter((o) => o.alarm.deviceId === ep.operator && !used.has(o.alarm.alarmId));
  // The pipeline counts S a little after the proxy saw it (broker hop, group commit): accept from a tolerance early.
  const loss = mine.find((o) => o.alarm.kind === 'mass_communication_loss' && o.receivedAt >= ep.mayFrom - n.toleranceMs && o.receivedAt <= ep.recoveryTrigger + recSla);
  if (loss) used.add(loss.alarm.alarmId);
  const rec = loss && mine.find((o) => o.alarm.kind === 'mass_communication_recovery' && o.alarm.seq === loss.alarm.seq && o.receivedAt >= loss.receivedAt);
  if (rec) used.add(rec.alarm.alarmId);
  const what = `${ep.operator}: ${ep.peakSilent} of ${ep.devices} devices silent (threshold ${ep.threshold})`;
  const recovery: MassCheck['recovery'] = !Number.isFinite(ep.recoveryTrigger) || ep.recoveryTrigger > n.window.end
    ? 'not_due'
    : !rec ? 'missing' : rec.receivedAt <= ep.recoveryTrigger + recSla ? 'on_time' : 'late';
  const recText = recovery === 'not_due' ? 'the outage had not ended by the end of the timeline'
    : recovery === 'missing' ? `no mass_communication_recovery reached the feed (due ${iso(ep.recoveryTrigger)})`
      : `recovery after ${fmtMs((rec?.receivedAt ?? 0) - ep.recoveryTrigger)}, SLA ${fmtMs(recSla)}`;
  if (ep.trigger === undefined) {
    return { operator: ep.operator, episode: ep, status: 'optional', lossAlarmId: loss?.alarm.alarmId, lossReceivedAt: loss?.receivedAt, recovery: rec ? recovery : 'not_due', recoveryReceivedAt: rec?.receivedAt, detail: `${what} at most at the threshold: a mass alarm may come, or not` };
  }
  if (!loss) {
    return { operator: ep.operator, episode: ep, status: 'missing', recovery, detail: `mass_communication_loss of ${what} from ${iso(ep.trigger)} never reached the operator feed` };
  }
  const latency = Math.max(0, loss.receivedAt - ep.trigger);
  const status = latency <= sla ? 'on_time' : 'late';
  return {
    operator: ep.operator, episode: ep, status, lossAlarmId: loss.alarm.alarmId, lossReceivedAt: loss.receivedAt, latencyMs: latency, recovery, recoveryReceivedAt: rec?.receivedAt,
    detail: `mass_communication_loss of ${what}: raised ${fmtMs(latency)} after the threshold was reached (${iso(ep.trigger)}), SLA ${fmtMs(sla)}; ${recText}`,
  };
}

export interface FaultReport {
  readonly name: string;
  readonly kind: string;
  readonly from: string;
  readonly until: string;
  readonly devices: number;
  /** The last device healed. */
  readonly healedBy: string;
  /** Alarms due while a device was under this fault, by outcome. */
  readonly alarms: Ledger['perFault'][string] | undefined;
  /** Devices that had to raise communication_loss, and how many of those alarms came on time. */
  readonly absence: {
    readonly required: number; readonly onTime: number; readonly late: number; readonly missing: number; readonly optional: number;
    /** Under a pipeline-side fault: after the SLA but within the allowance (the pipeline could not see the silence in time). Absent in older run.json. */
    readonly lateAllowed?: number;
  };
  /** Mass alarm of an operator during this window: fault start → feed. */
  readonly timeToDetectMs: number | null;
  /** Last heal → every device's backlog forwarded; null when some never drained. */
  readonly drainMs: number | null;
  readonly notDrained: readonly string[];
}

export function faultReports(n: NetworkInput, prepared: Prepared, ledger: Ledger): FaultReport[] {
  const firstSeen = new Map<string, number>();
  for (const o of prepared.observations) {
    if (o.alarm.kind !== 'communication_loss') continue;
    const key = `${o.alarm.deviceId}|${o.alarm.seq}`;
    firstSeen.set(key, Math.min(firstSeen.get(key) ?? Infinity, o.receivedAt));
  }
  return n.faults.map((f) => {
    const hit = new Set(f.devices);
    const lastHeal = Math.max(...f.healAt.values());
    const absence = { required: 0, onTime: 0, late: 0, missing: 0, optional: 0, lateAllowed: 0 };
    const excusable = PIPELINE_SIDE_FAULTS.has(f.kind);
    for (const e of prepared.episodes) {
      if (!hit.has(e.deviceId) || e.triggerTime < f.from || e.triggerTime > (f.healAt.get(e.deviceId) ?? f.until) + n.offlineTimeoutMs) continue;
      if (!e.required) {
        absence.optional++;
        continue;
      }
      absence.required++;
      const seen = firstSeen.get(`${e.deviceId}|${e.seq}`);
      if (seen === undefined) absence.missing++;
      else if (seen - e.triggerTime <= n.slaMs.communication_loss) absence.onTime++;
      else if (excusable && seen <= (prepared.excuse(toExpectation(e))?.lateOkUntil ?? -Infinity)) absence.lateAllowed++;
      else absence.late++;
    }
    const operators = new Set(f.devices.map((d) => n.operatorOf.get(d)));
    const detect = prepared.mass.filter((m) => operators.has(m.operator) && m.lossReceivedAt !== undefined && m.lossReceivedAt >= f.from && m.episode.mayFrom <= lastHeal + n.offlineTimeoutMs);
    const notDrained: string[] = [];
    let drainedAt = -Infinity;
    for (const id of f.devices) {
      const w = n.heal(f.name, id);
      const done = w && drainedBy(w);
      if (done === undefined) notDrained.push(id);
      else drainedAt = Math.max(drainedAt, done);
    }
    return {
      name: f.name, kind: f.kind, from: iso(f.from), until: iso(f.until), devices: f.devices.length, healedBy: iso(lastHeal),
      alarms: ledger.perFault[f.name], absence,
      timeToDetectMs: detect.length > 0 ? Math.min(...detect.map((m) => (m.lossReceivedAt as number) - f.from)) : null,
      drainMs: notDrained.length === 0 ? Math.max(0, drainedAt - lastHeal) : null,
      notDrained,
    };
  });
}
