/**
 * The run's state and the group commit: records wait in memory until the next commit tick, which
 * runs ONE transaction that stores them (deduped by (device, seq)), advances each device's
 * contiguous prefix, evaluates the newly contiguous records in seq order through the rules, then
 * each BAR pair whose watermark may have moved, then each mobile operator whose count of silent
 * devices moved (mass_communication_loss), and stores rule state and alarms with them
 * (docs/RULES.md "Evaluation order"), so a kill -9 loses nothing. Rule state lives in memory and is
 * mirrored to the store in that transaction: the hot path reads nothing back. Only after the commit
 * does `afterCommit` publish acks and wake the feed (DESIGN.md "Uplink": ack after durably stored).
 */
import type { AlarmKind, DeviceType } from '../protocol/alarms.ts';
import { virtualClock, type Clock } from '../protocol/clock.ts';
import type { DeviceIngest, IngestSummary, Provisioning, ProvisioningResult } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { compileRing } from './geometry.ts';
import { PERPETRATOR, VICTIM, evaluatePair, newBarState, type BarLevel, type BarState, type Side } from './rules/bar-distance.ts';
import { checkSilence, noteReceived, type SilenceState } from './rules/communication-loss.ts';
import { evaluateCurfew, newCurfewState, type CurfewState } from './rules/curfew.ts';
import { eventAlarm } from './rules/event-alarms.ts';
import { evaluatePosition, type Zone, type ZoneStates } from './rules/exclusion-zone.ts';
import { evaluateInclusion, type InclusionStates, type InclusionZone } from './rules/inclusion-zone.ts';
import { evaluateBattery, type BatteryState } from './rules/low-battery.ts';
import { evaluateMass, newMassState, type MassState } from './rules/mass-communication-loss.ts';
import { Schedules, type Schedule } from './rules/windows.ts';
import type { EvalRow, Store } from './store.ts';

/** A BAR pair at run time: its units (index: Side) and its stream state. */
interface PairRt {
  readonly pairId: string;
  /** A, in metres. */
  readonly alertM: number;
  readonly units: readonly [DeviceRt, DeviceRt];
  readonly state: BarState;
}

/**
 * A mobile operator's mass_communication_loss state. Not stored as such: S is the count of its
 * devices with an open communication_loss (stored per device), and open/ordinal follow from the mass
 * alarms of the current epoch, all written in the transactions that changed them.
 */
interface OperatorRt extends MassState {
  readonly operator: string;
}

/** Per-device ingest progress and rule state, in memory; mirrored to the store in each commit. */
interface DeviceRt extends SilenceState, BatteryState {
  readonly device: string;
  readonly type: DeviceType;
  /** The device's mobile operator (mass_communication_loss scope). */
  readonly op: OperatorRt;
  contiguousSeq: number;
  /** Device time of the record at contiguousSeq: this unit's share of a BAR watermark. */
  contiguousTime: number;
  maxSeq: number;
  stored: number;
  readonly exclusion: Zone[];
  readonly zoneStates: ZoneStates;
  readonly inclusion: InclusionZone[];
  readonly inclusionStates: InclusionStates;
  /** The device's curfew windows (all its curfews), null without any. */
  curfew: Schedule | null;
  presence: CurfewState;
  /** The BAR pairs this device is a unit of, and which unit. */
  readonly pairs: { readonly pair: PairRt; readonly side: Side }[];
}

export interface CommitResult {
  /** Device → highest contiguous seq stored, for every device heard from in this tick (duplicates too). */
  readonly acks: ReadonlyMap<string, number>;
  /** Alarms raised (the feed has new rows when > 0). */
  readonly alarms: number;
}

export interface EngineStats {
  batches: number;
  records: number;
  duplicates: number;
  unknownDevice: number;
  invalid: number;
  commits: number;
  commitErrors: number;
  alarms: number;
}

export interface EngineOptions {
  afterCommit: (r: CommitResult) => void;
  log: (line: string) => void;
  /** Wall clock for the virtual clock (tests inject a fake). */
  realNow?: () => number;
}

const META_PROVISIONING = 'provisioning';
const META_EPOCH = 'epoch';
/** Records read back per query when a filled gap releases records stored in earlier ticks. */
const CATCH_UP_CHUNK = 1000;

export class Engine {
  readonly stats: EngineStats = { batches: 0, records: 0, duplicates: 0, unknownDevice: 0, invalid: 0, commits: 0, commitErrors: 0, alarms: 0 };
  private prov: Provisioning | null = null;
  private clock: Clock | null = null;
  /** Increments per new run; alarm identity is per epoch (see store.ts). */
  private epoch = 0;
  private devices = new Map<string, DeviceRt>();
  private operators = new Map<string, OperatorRt>();
  private pending: { dev: DeviceRt; records: readonly UplinkRecord[] }[] = [];
  private pendingCount = 0;

  constructor(private readonly store: Store, private readonly opts: EngineOptions) {
    this.loadFromStore();
  }

  get runId(): string | null {
    return this.prov?.runId ?? null;
  }

  /** Records accepted but not yet committed. */
  get pendingRecords(): number {
    return this.pendingCount;
  }

  /** Virtual now; wall clock before any provisioning. */
  now(): number {
    return this.clock ? this.clock.now() : (this.opts.realNow ?? Date.now)();
  }

  /** The run's silence timeout and clock speed, or null before provisioning. */
  watch(): { speed: number; offlineTimeoutMs: number } | null {
    return this.prov ? { speed: this.prov.clock.speed, offlineTimeoutMs: this.prov.offlineTimeoutMs } : null;
  }

  /** Queues one decoded batch; false when the device is not provisioned (nothing queued). */
  accept(device: string, records: readonly UplinkRecord[]): boolean {
    const dev = this.devices.get(device);
    if (!dev) {
      this.stats.unknownDevice++;
      return false;
    }
    this.stats.batches++;
    this.pending.push({ dev, records });
    this.pendingCount += records.length;
    return true;
  }

  /** Commits everything pending in one transaction, then calls `afterCommit`. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingCount = 0;
    const now = this.now();
    const touched = new Set<DeviceRt>();
    // Operators with a device re-armed in this tick: their S fell.
    const rearmed = new Set<OperatorRt>();
    let alarms = 0;
    try {
      this.store.transaction(() => {
        const fresh = new Map<DeviceRt, Map<number, UplinkRecord>>();
        for (const { dev, records } of batch) {
          touched.add(dev);
          for (const r of records) {
            this.stats.records++;
            // Below the contiguous prefix it is a resend: skip the index probe.
            if (r.seq <= dev.contiguousSeq || !this.store.insertRecord(r)) {
              this.stats.duplicates++;
              continue;
            }
            dev.stored++;
            if (r.seq > dev.maxSeq) dev.maxSeq = r.seq;
            if (noteReceived(dev, r.seq, r.time, now)) {
              dev.op.silent--;
              rearmed.add(dev.op);
            }
            let m = fresh.get(dev);
            if (!m) fresh.set(dev, (m = new Map()));
            m.set(r.seq, r);
          }
        }
        // BAR pairs with a unit whose contiguous prefix advanced: their watermark may have moved.
        const pairs = new Set<PairRt>();
        for (const [dev, recs] of fresh) {
          const before = dev.contiguousSeq;
          alarms += this.advance(dev, recs, now);
          this.saveDevice(dev);
          if (dev.contiguousSeq !== before) for (const { pair } of dev.pairs) pairs.add(pair);
        }
        for (const pair of pairs) alarms += this.evaluatePair(pair, now);
        for (const op of rearmed) alarms += this.evaluateMass(op, now);
      });
    } catch (err) {
      // Rolled back: memory may be ahead of the DB, so reload it. Nothing is acked; devices resend.
      this.stats.commitErrors++;
      this.opts.log(`commit failed, ${batch.length} batches dropped (devices will resend): ${String(err)}`);
      this.loadFromStore();
      return;
    }
    this.stats.commits++;
    this.stats.alarms += alarms;
    const acks = new Map<string, number>();
    for (const dev of touched) acks.set(dev.device, dev.contiguousSeq);
    this.after({ acks, alarms });
  }

  /** The commit is done whatever the hook does: a failing ack or feed wake-up must not crash ingest. */
  private after(r: CommitResult): void {
    try {
      this.opts.afterCommit(r);
    } catch (err) {
      this.opts.log(`after-commit hook failed: ${String(err)}`);
    }
  }

  /**
   * Watchdog sweep (RULES.md communication_loss), then every operator's mass_communication_loss in
   * the same transaction (S only grows here). Commits pending records first so L and R are current.
   */
  checkSilence(): number {
    const prov = this.prov;
    if (!prov) return 0;
    this.flush();
    const now = this.now();
    let alarms = 0;
    try {
      this.store.transaction(() => {
        for (const dev of this.devices.values()) {
          const a = checkSilence(dev, now, prov.offlineTimeoutMs);
          if (!a) continue;
          alarms += this.raise(dev.device, 'communication_loss', a.seq, a.deviceTime, now);
          dev.op.silent++;
          this.saveDevice(dev);
        }
        // All operators, not only those whose S grew: cheap (a handful), and a re-provisioned
        // threshold takes effect at the next sweep.
        for (const op of this.operators.values()) alarms += this.evaluateMass(op, now);
      });
    } catch (err) {
      this.stats.commitErrors++;
      this.opts.log(`watchdog commit failed: ${String(err)}`);
      this.loadFromStore();
      return 0;
    }
    if (alarms > 0) {
      this.stats.alarms += alarms;
      this.after({ acks: new Map(), alarms });
    }
    return alarms;
  }

  /** Stores provisioning; a new runId starts a new run (records and state forgotten, alarms kept). */
  provision(p: Provisioning): ProvisioningResult {
    this.flush();
    const json = JSON.stringify(p);
    this.store.transaction(() => {
      if (p.runId !== this.prov?.runId) {
        this.store.clearRun();
        this.store.setMeta(META_EPOCH, String(this.epoch + 1));
      }
      this.store.setMeta(META_PROVISIONING, json);
    });
    this.loadFromStore();
    this.opts.log(`provisioned run ${p.runId}: ${p.devices.length} devices, ${p.zones.length} zones, ${p.curfews.length} curfews, ` +
      `${p.barPairs.length} BAR pairs, speed ${p.clock.speed}`);
    return { ok: true, feedCursor: this.store.head() };
  }

  summary(): IngestSummary {
    this.flush();
    const devices: Record<string, DeviceIngest> = {};
    for (const dev of this.devices.values()) {
      devices[dev.device] = { contiguousSeq: dev.contiguousSeq, maxSeq: dev.maxSeq, stored: dev.stored, gaps: this.gaps(dev) };
    }
    return { runId: this.runId, devices };
  }

  /** Missing inclusive ranges above the contiguous prefix. */
  private gaps(dev: DeviceRt): [number, number][] {
    if (dev.maxSeq <= dev.contiguousSeq) return [];
    const gaps: [number, number][] = [];
    let prev = dev.contiguousSeq;
    for (const seq of this.store.seqsAbove(dev.device, dev.contiguousSeq)) {
      if (seq > prev + 1) gaps.push([prev + 1, seq - 1]);
      prev = seq;
    }
    return gaps;
  }

  /**
   * Evaluates, in seq order, the records that just became contiguous. Returns alarms raised.
   * Invariant between ticks: contiguousSeq + 1 is not stored, so progress starts with a fresh record;
   * once it does, records stored above the former gap in earlier ticks follow from the DB.
   */
  private advance(dev: DeviceRt, fresh: Map<number, UplinkRecord>, now: number): number {
    const start = dev.contiguousSeq;
    let alarms = 0;
    for (let r = fresh.get(start + 1); r; r = fresh.get(dev.contiguousSeq + 1)) alarms += this.evaluate(dev, evalRow(r), now);
    if (dev.contiguousSeq === start) return alarms;
    while (dev.contiguousSeq < dev.maxSeq) {
      const rows = this.store.recordsFrom(dev.device, dev.contiguousSeq + 1, CATCH_UP_CHUNK);
      for (const row of rows) {
        if (row.seq !== dev.contiguousSeq + 1) return alarms;
        alarms += this.evaluate(dev, row, now);
      }
      if (rows.length < CATCH_UP_CHUNK) break;
    }
    return alarms;
  }

  /**
   * One record through the record-driven rules, exactly once (RULES.md "Evaluation order"), then
   * the contiguous prefix moves past it. BAR positions only join their pairs' queues here: the pair's
   * stream is evaluated after every device of the commit has advanced (evaluatePair).
   */
  private evaluate(dev: DeviceRt, r: EvalRow, now: number): number {
    let alarms = 0;
    if (evaluateBattery(dev, r.battery)) alarms += this.raise(dev.device, 'low_battery', r.seq, r.time, now);
    if (r.type === 'event' && r.event !== null) {
      const kind = eventAlarm(r.event);
      if (kind) alarms += this.raise(dev.device, kind, r.seq, r.time, now);
    } else if (r.type === 'position' && r.lat !== null && r.lon !== null) {
      if (dev.exclusion.length > 0) {
        for (const c of evaluatePosition(r.lat, r.lon, dev.exclusion, dev.zoneStates)) {
          this.store.saveZoneState(dev.device, c.zoneId, c.inside);
          if (c.alarm) alarms += this.raise(dev.device, 'exclusion_zone_entry', r.seq, r.time, now, c.zoneId);
        }
      }
      if (dev.inclusion.length > 0) {
        for (const c of evaluateInclusion(r.lat, r.lon, r.time, dev.inclusion, dev.inclusionStates)) {
          this.store.saveZoneState(dev.device, c.zoneId, c.violating);
          if (c.alarm) alarms += this.raise(dev.device, 'inclusion_zone_exit', r.seq, r.time, now, c.zoneId);
        }
      }
      for (const { pair, side } of dev.pairs) pair.state.queues[side].push({ seq: r.seq, time: r.time, lat: r.lat, lon: r.lon });
    }
    if (dev.type === 'pse') {
      const kind = evaluateCurfew(dev.presence, dev.curfew, r.time, r.type === 'event' ? r.event : null);
      if (kind) alarms += this.raise(dev.device, kind, r.seq, r.time, now);
    }
    dev.contiguousSeq = r.seq;
    dev.contiguousTime = r.time;
    return alarms;
  }

  /**
   * The pair's stream up to its watermark: the smaller of the two units' latest contiguously-stored
   * record times (RULES.md "bar_pre_alert and bar_alert"); nothing before both units have one.
   */
  private evaluatePair(pair: PairRt, now: number): number {
    const [p, v] = pair.units;
    if (p.contiguousSeq === 0 || v.contiguousSeq === 0) return 0;
    const found = evaluatePair(pair.state, pair.alertM, Math.min(p.contiguousTime, v.contiguousTime));
    let alarms = 0;
    for (const a of found) alarms += this.raise(pair.units[a.side].device, a.kind, a.seq, a.time, now, null, pair.pairId);
    const s = pair.state;
    const [pl, vl] = s.latest;
    this.store.saveBarState({
      pairId: pair.pairId, level: s.level, pLat: pl?.lat ?? null, pLon: pl?.lon ?? null, vLat: vl?.lat ?? null, vLon: vl?.lon ?? null,
      pSeq: s.consumedSeq[PERPETRATOR], vSeq: s.consumedSeq[VICTIM],
    });
    return alarms;
  }

  /** RULES.md mass_communication_loss: the operator id as deviceId, the outage ordinal as seq, virtual now as deviceTime. */
  private evaluateMass(op: OperatorRt, now: number): number {
    const a = evaluateMass(op);
    if (!a) return 0;
    this.opts.log(`${a.kind} ${op.operator} #${a.seq}: ${op.silent} of ${op.devices} devices silent (threshold ${op.threshold})`);
    return this.raise(op.operator, a.kind, a.seq, now, now);
  }

  private raise(deviceId: string, kind: AlarmKind, seq: number, deviceTime: number, raisedAt: number,
    zoneId: string | null = null, pairId: string | null = null): number {
    const cursor = this.store.insertAlarm({ epoch: this.epoch, deviceId, kind, seq, deviceTime, raisedAt, zoneId, pairId });
    if (cursor === undefined) {
      this.opts.log(`duplicate alarm suppressed: ${deviceId} ${kind} seq ${seq}${zoneId ? ` zone ${zoneId}` : ''}${pairId ? ` pair ${pairId}` : ''}`);
      return 0;
    }
    return 1;
  }

  private saveDevice(dev: DeviceRt): void {
    this.store.saveDevice({
      device: dev.device, contiguousSeq: dev.contiguousSeq, contiguousTime: dev.contiguousTime, maxSeq: dev.maxSeq, stored: dev.stored,
      lastSeq: dev.lastSeq, lastTime: dev.lastTime, openLossSeq: dev.openSeq, lossRearmedAt: dev.rearmedAt, batteryLow: dev.batteryLow,
      absent: dev.presence.absent, absentSince: dev.presence.absentSince, curfewAlarmPeriod: dev.presence.curfewAlarmPeriod,
    });
  }

  /** Rebuilds all in-memory state from the store: at start, after provisioning, after a failed commit. */
  private loadFromStore(): void {
    const json = this.store.getMeta(META_PROVISIONING);
    this.prov = json === undefined ? null : (JSON.parse(json) as Provisioning);
    this.epoch = Number(this.store.getMeta(META_EPOCH) ?? '0');
    this.clock = this.prov ? virtualClock(this.prov.clock, this.opts.realNow) : null;
    this.devices = new Map();
    this.operators = new Map();
    this.pending = [];
    this.pendingCount = 0;
    if (!this.prov) return;
    const schedules = new Schedules(this.prov.timeZone);
    const perOperator = new Map<string, number>();
    for (const d of this.prov.devices) perOperator.set(d.operator, (perOperator.get(d.operator) ?? 0) + 1);
    for (const [operator, n] of perOperator) {
      // Open and ordinal from the mass alarms this run raised (stored with the S they followed from).
      const lost = this.store.maxAlarmSeq(this.epoch, operator, 'mass_communication_loss');
      const recovered = this.store.maxAlarmSeq(this.epoch, operator, 'mass_communication_recovery');
      const state = { ...newMassState(n, this.prov.massCommunicationLoss), open: lost > recovered, ordinal: lost };
      this.operators.set(operator, { operator, ...state });
    }
    for (const d of this.prov.devices) {
      this.devices.set(d.deviceId, {
        device: d.deviceId, type: d.type, op: this.operators.get(d.operator)!, contiguousSeq: 0, contiguousTime: 0, maxSeq: 0, stored: 0,
        lastSeq: 0, lastTime: 0, openSeq: null, rearmedAt: null, batteryLow: false, exclusion: [], zoneStates: new Map(), inclusion: [],
        inclusionStates: new Map(), curfew: null, presence: newCurfewState(), pairs: [],
      });
    }
    for (const z of this.prov.zones) {
      const dev = this.devices.get(z.deviceId);
      if (z.kind === 'exclusion') dev?.exclusion.push({ zoneId: z.zoneId, ring: compileRing(z.polygon) });
      else dev?.inclusion.push({ zoneId: z.zoneId, ring: compileRing(z.polygon), schedule: z.windows ? schedules.get(z.windows) : null });
    }
    const curfewWindows = new Map<string, Provisioning['curfews'][number]['windows']>();
    for (const c of this.prov.curfews) curfewWindows.set(c.deviceId, [...(curfewWindows.get(c.deviceId) ?? []), ...c.windows]);
    for (const [id, windows] of curfewWindows) {
      const dev = this.devices.get(id);
      if (dev) dev.curfew = schedules.get(windows);
    }
    for (const row of this.store.loadDevices()) {
      const dev = this.devices.get(row.device);
      if (!dev) continue;
      dev.contiguousSeq = row.contiguousSeq;
      dev.contiguousTime = row.contiguousTime;
      dev.maxSeq = row.maxSeq;
      dev.stored = row.stored;
      dev.lastSeq = row.lastSeq;
      dev.lastTime = row.lastTime;
      dev.openSeq = row.openLossSeq;
      dev.rearmedAt = row.lossRearmedAt;
      if (dev.openSeq !== null) dev.op.silent++;
      dev.batteryLow = row.batteryLow;
      dev.presence = { absent: row.absent, absentSince: row.absentSince, curfewAlarmPeriod: row.curfewAlarmPeriod };
    }
    for (const z of this.store.loadZoneStates()) {
      const dev = this.devices.get(z.device);
      if (!dev) continue;
      if (dev.exclusion.some((x) => x.zoneId === z.zoneId)) dev.zoneStates.set(z.zoneId, z.active);
      else dev.inclusionStates.set(z.zoneId, z.active);
    }
    this.loadPairs(this.prov);
  }

  /**
   * BAR pairs with their stored state; each unit's queue is read back from the records it had
   * evaluated but the pair's stream had not yet taken (above the pair's consumed seq, up to the
   * unit's contiguous prefix), so a restart resumes the stream exactly where the last commit left it.
   */
  private loadPairs(prov: Provisioning): void {
    const stored = new Map(this.store.loadBarStates().map((b) => [b.pairId, b]));
    for (const b of prov.barPairs) {
      const p = this.devices.get(b.perpetratorId);
      const v = this.devices.get(b.victimId);
      if (!p || !v) continue;
      const state = newBarState();
      const row = stored.get(b.pairId);
      if (row) {
        state.level = row.level as BarLevel;
        state.latest[PERPETRATOR] = row.pLat !== null && row.pLon !== null ? { lat: row.pLat, lon: row.pLon } : null;
        state.latest[VICTIM] = row.vLat !== null && row.vLon !== null ? { lat: row.vLat, lon: row.vLon } : null;
        state.consumedSeq[PERPETRATOR] = row.pSeq;
        state.consumedSeq[VICTIM] = row.vSeq;
      }
      const pair: PairRt = { pairId: b.pairId, alertM: b.alertKm * 1000, units: [p, v], state };
      for (const side of [PERPETRATOR, VICTIM] as const) {
        const unit = pair.units[side];
        state.queues[side].push(...this.store.positionsBetween(unit.device, state.consumedSeq[side], unit.contiguousSeq));
        unit.pairs.push({ pair, side });
      }
    }
  }
}

/** A fresh record in the shape rules read (the same as a record read back from the store). */
function evalRow(r: UplinkRecord): EvalRow {
  const pos = r.type === 'position';
  return {
    seq: r.seq, time: r.time, type: r.type, battery: r.battery,
    lat: pos ? r.lat : null, lon: pos ? r.lon : null, event: r.type === 'event' ? r.event : null,
  };
}
