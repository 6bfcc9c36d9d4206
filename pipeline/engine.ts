/**
 * The run's state and the group commit: records wait in memory until the next commit tick, which
 * runs ONE transaction that stores them (duplicates refused from each device's stored seqs, kept in
 * memory: pipeline/stored-seqs.ts), advances each device's contiguous prefix (the ack), evaluates the newly evaluable records in seq order through the rules
 * (the contiguous run after the evaluated prefix, and past a gap once it is older than the gap
 * timeout: RULES.md "Evaluation order"), then
 * each BAR pair whose watermark may have moved, then each mobile operator whose count of silent
 * devices moved (mass_communication_loss), and stores rule state and alarms with them
 * (docs/RULES.md "Evaluation order"), so a kill -9 loses nothing. Rule state lives in memory and is
 * mirrored to the store in that transaction: the hot path reads nothing back. Only after the commit
 * does `afterCommit` publish acks and wake the feed (DESIGN.md "Uplink": ack after durably stored).
 */
import type { AlarmKind, DeviceType } from '../protocol/alarms.ts';
import { virtualClock, type Clock } from '../protocol/clock.ts';
import type { PipelineFaultKind, PipelineFaultResult } from '../protocol/pipeline-admin.ts';
import type { DeviceIngest, IngestSummary, Provisioning, ProvisioningResult } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { compileRing } from './geometry.ts';
import { PERPETRATOR, VICTIM, evaluatePair, newBarState, type BarLevel, type BarState, type Side } from './rules/bar-distance.ts';
import { checkSilence, noteReceived, silenceDueAt, type SilenceState } from './rules/communication-loss.ts';
import { evaluateCurfew, newCurfewState, type CurfewState } from './rules/curfew.ts';
import { eventAlarm } from './rules/event-alarms.ts';
import { evaluatePosition, type Zone, type ZoneStates } from './rules/exclusion-zone.ts';
import { evaluateInclusion, type InclusionStates, type InclusionZone } from './rules/inclusion-zone.ts';
import { evaluateBattery, type BatteryState } from './rules/low-battery.ts';
import { evaluateMass, newMassState, type MassState } from './rules/mass-communication-loss.ts';
import { Schedules, type Schedule } from './rules/windows.ts';
import { limitedLog } from './log.ts';
import type { EvalRow, Store } from './store.ts';
import { addStoredSeq, missingRanges, type StoredSeqs } from './stored-seqs.ts';

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
interface DeviceRt extends SilenceState, BatteryState, StoredSeqs {
  readonly device: string;
  /** Position in the provisioning: the watchdog visits devices in this order. */
  readonly index: number;
  /** Records this device stored in the commit under way, by seq; empty between commits (reused: no Map per device per tick). */
  readonly fresh: Map<number, UplinkRecord>;
  readonly type: DeviceType;
  /** The device's mobile operator (mass_communication_loss scope). */
  readonly op: OperatorRt;
  /** Highest seq such that 1..contiguousSeq are all stored: the ack, and the summary's contiguousSeq. */
  contiguousSeq: number;
  /** Stored seqs above the ack, as runs (pipeline/stored-seqs.ts): duplicates are refused from them. */
  storedAbove: number[];
  /**
   * Highest seq the rules have evaluated (the evaluated prefix). Equal to contiguousSeq until a gap is
   * abandoned; then above it, and the abandoned seqs are never evaluated.
   */
  evalSeq: number;
  /** Device time of the record at evalSeq: this unit's share of a BAR watermark. */
  evalTime: number;
  /**
   * Virtual time the first record above the gap at evalSeq + 1 was stored (the gap's age starts
   * there); null exactly when no record waits above the evaluated prefix.
   */
  gapSince: number | null;
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
  /** Alarms raised (stored, on the feed). */
  alarms: number;
  /** Gaps the rules moved past after gapTimeoutMs (RULES.md "Evaluation order"). */
  gapsAbandoned: number;
  /** Seqs in those gaps (missing when abandoned). */
  seqsAbandoned: number;
  /** Records of an abandoned seq that arrived later: stored, never evaluated. */
  lateRecords: number;
  /** Alarms the rules raised while the alarm-id-overflow fault was on: lost, never stored. */
  alarmsLost: number;
}

export interface EngineOptions {
  afterCommit: (r: CommitResult) => void;
  log: (line: string) => void;
  /** Wall clock for the virtual clock (tests inject a fake). */
  realNow?: () => number;
  /**
   * Virtual ms a device's lowest missing seq may hold evaluation back, counted from when the first
   * record above it was stored; then the rules move past it (RULES.md "Evaluation order").
   * Default DEFAULT_GAP_TIMEOUT_MS.
   */
  gapTimeoutMs?: number;
}

/**
 * 30 virtual minutes: well past a store-and-forward device's longest resend backoff (5 minutes,
 * sim/model/defaults.ts) times its retries, so a gap a device will fill is not given up on.
 */
export const DEFAULT_GAP_TIMEOUT_MS = 1_800_000;

/**
 * Real ms the pipeline waits on a gap at least, whatever the clock speed: resends travel in real
 * time (a device's ack timeout has the same kind of floor, sim/model/defaults.ts).
 */
export const GAP_TIMEOUT_REAL_FLOOR_MS = 15_000;

const META_PROVISIONING = 'provisioning';
const META_EPOCH = 'epoch';
/** Present ('1') while the alarm-id-overflow fault is on; a new run deletes it. */
const META_FAULT_ALARM_ID_OVERFLOW = 'fault.alarm-id-overflow';
/** Records read back per query when a filled or abandoned gap releases records stored in earlier ticks. */
const CATCH_UP_CHUNK = 1000;

export class Engine {
  readonly stats: EngineStats = {
    batches: 0, records: 0, duplicates: 0, unknownDevice: 0, invalid: 0, commits: 0, commitErrors: 0, alarms: 0,
    gapsAbandoned: 0, seqsAbandoned: 0, lateRecords: 0, alarmsLost: 0,
  };
  readonly gapTimeoutMs: number;
  /** The alarm-id-overflow fault (protocol/pipeline-admin.ts): every alarm raised is lost while on. */
  private alarmIdOverflow = false;
  /** stats.alarmsLost when the fault last went on (for its "off" log line). */
  private lostAtFaultOn = 0;
  private readonly gapLog: (line: string) => void;
  private prov: Provisioning | null = null;
  private clock: Clock | null = null;
  /** Increments per new run; alarm identity is per epoch (see store.ts). */
  private epoch = 0;
  private devices = new Map<string, DeviceRt>();
  private operators = new Map<string, OperatorRt>();
  private pending: { dev: DeviceRt; records: readonly UplinkRecord[] }[] = [];
  private pendingCount = 0;
  /** Devices whose gapSince is set (a gap holds their evaluation back): what the watchdog ages. */
  private gapped = new Set<DeviceRt>();
  /**
   * Virtual time before which no device can be due a communication_loss (silenceDueAt, the minimum
   * over devices): the watchdog skips its sweep over all devices until then. Lowered as records
   * arrive (a first record, a skewed clock); -Infinity: unknown, sweep.
   */
  private silenceDue = -Infinity;

  /** Virtual time this process started watching the current run's devices (-Infinity: from the run's start). */
  private watchingSince = -Infinity;

  constructor(private readonly store: Store, private readonly opts: EngineOptions) {
    const gap = opts.gapTimeoutMs ?? DEFAULT_GAP_TIMEOUT_MS;
    if (!(gap > 0)) throw new Error(`gapTimeoutMs ${gap}: give a number of virtual ms > 0`);
    this.gapTimeoutMs = gap;
    this.gapLog = limitedLog(opts.log);
    this.loadFromStore();
    // A restart in the middle of a run: silence is counted from now on (RULES.md communication_loss).
    this.watchingSince = this.prov ? this.now() : -Infinity;
  }


  /** Virtual ms a gap holds evaluation back: gapTimeoutMs, and never less than the real-time floor. */
  private gapWait(): number {
    return Math.max(this.gapTimeoutMs, GAP_TIMEOUT_REAL_FLOOR_MS * (this.prov?.clock.speed ?? 1));
  }

  /** Whether the alarm-id-overflow fault is on. */
  get alarmIdOverflowOn(): boolean {
    return this.alarmIdOverflow;
  }

  /**
   * Virtual time from which this process counts silence, when it started in the middle of a run
   * (a restart on the run's store); undefined for one that was there when the run was provisioned.
   */
  get watchingFrom(): number | undefined {
    return Number.isFinite(this.watchingSince) ? this.watchingSince : undefined;
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
    const offlineTimeoutMs = this.prov?.offlineTimeoutMs ?? Infinity;
    // Devices with records stored in this tick, in the order their first one came.
    const fresh: DeviceRt[] = [];
    try {
      this.store.transaction(() => {
        for (const { dev, records } of batch) {
          touched.add(dev);
          for (const r of records) {
            this.stats.records++;
            // Below the contiguous prefix it is a resend: skip the index probe.
            if (r.seq <= dev.contiguousSeq) {
              this.stats.duplicates++;
              continue;
            }
            // At or below the evaluated prefix (and new): its seq was abandoned. Stored, never evaluated.
            const late = r.seq <= dev.evalSeq;
            // Also moves the ack over the records and the runs above a gap they fill.
            if (!addStoredSeq(dev, r.seq)) {
              this.stats.duplicates++;
              continue;
            }
            this.store.insertRecord(r, now, late);
            if (late) this.stats.lateRecords++;
            dev.stored++;
            if (r.seq > dev.maxSeq) dev.maxSeq = r.seq;
            if (noteReceived(dev, r.seq, r.time, now)) {
              dev.op.silent--;
              rearmed.add(dev.op);
            }
            const due = silenceDueAt(dev, offlineTimeoutMs, this.watchingSince);
            if (due < this.silenceDue) this.silenceDue = due;
            if (dev.fresh.size === 0) fresh.push(dev);
            dev.fresh.set(r.seq, r);
          }
        }
        // BAR pairs with a unit whose evaluated prefix advanced: their watermark may have moved.
        const pairs = new Set<PairRt>();
        for (const dev of fresh) {
          alarms += this.advanceDevice(dev, dev.fresh, now, pairs);
          dev.fresh.clear();
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
   * The watchdog sweep, in one transaction: gaps that aged past gapTimeoutMs while their device sent
   * nothing are abandoned and the records above them evaluated (RULES.md "Evaluation order"), then
   * communication_loss for every device, then every operator's mass_communication_loss (S only grows
   * here). Commits pending records first so L and R are current.
   */
  sweep(): number {
    const prov = this.prov;
    if (!prov) return 0;
    this.flush();
    const now = this.now();
    let alarms = 0;
    try {
      this.store.transaction(() => {
        const pairs = new Set<PairRt>();
        const wait = this.gapWait();
        const aged = [...this.gapped].filter((dev) => now >= dev.gapSince! + wait).sort((a, b) => a.index - b.index);
        for (const dev of aged) alarms += this.advanceDevice(dev, null, now, pairs);
        for (const pair of pairs) alarms += this.evaluatePair(pair, now);
        if (now >= this.silenceDue) {
          // Some device may be due: check them all (in provisioning order) and note the next due time.
          let next = Infinity;
          for (const dev of this.devices.values()) {
            const a = checkSilence(dev, now, prov.offlineTimeoutMs, this.watchingSince);
            if (!a) {
              next = Math.min(next, silenceDueAt(dev, prov.offlineTimeoutMs, this.watchingSince));
              continue;
            }
            alarms += this.raise(dev.device, 'communication_loss', a.seq, a.deviceTime, now);
            dev.op.silent++;
            this.saveDevice(dev);
          }
          this.silenceDue = next;
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
    const newRun = p.runId !== this.prov?.runId;
    this.store.transaction(() => {
      if (newRun) {
        this.store.clearRun();
        this.store.setMeta(META_EPOCH, String(this.epoch + 1));
        this.store.deleteMeta(META_FAULT_ALARM_ID_OVERFLOW);
      }
      this.store.setMeta(META_PROVISIONING, json);
    });
    if (newRun) this.watchingSince = -Infinity;
    if (newRun && this.alarmIdOverflow) this.opts.log(`fault alarm-id-overflow off: a new run (${p.runId}) starts without it`);
    this.loadFromStore();
    this.opts.log(`provisioned run ${p.runId}: ${p.devices.length} devices, ${p.zones.length} zones, ${p.curfews.length} curfews, ` +
      `${p.barPairs.length} BAR pairs, speed ${p.clock.speed}`);
    return { ok: true, feedCursor: this.store.head() };
  }

  /**
   * Turns a pipeline-side fault on or off (protocol/pipeline-admin.ts), persisted in the store's meta
   * so a restart keeps it. Pending records are committed first, under the mode they arrived in.
   */
  setFault(kind: PipelineFaultKind, active: boolean): PipelineFaultResult {
    this.flush();
    const changed = active !== this.alarmIdOverflow;
    if (changed) {
      this.store.transaction(() => {
        if (active) this.store.setMeta(META_FAULT_ALARM_ID_OVERFLOW, '1');
        else this.store.deleteMeta(META_FAULT_ALARM_ID_OVERFLOW);
      });
      this.alarmIdOverflow = active;
      if (active) {
        this.lostAtFaultOn = this.stats.alarmsLost;
        this.opts.log(`fault ${kind} on: every alarm raised from now on is lost (records are still stored, acked and evaluated)`);
      } else {
        this.opts.log(`fault ${kind} off: alarms are raised again; ${this.stats.alarmsLost - this.lostAtFaultOn} lost while it was on (never raised)`);
      }
    }
    return { ok: true, kind, active, changed };
  }

  summary(): IngestSummary {
    this.flush();
    const devices: Record<string, DeviceIngest> = {};
    for (const dev of this.devices.values()) {
      devices[dev.device] = { contiguousSeq: dev.contiguousSeq, maxSeq: dev.maxSeq, stored: dev.stored, gaps: this.gaps(dev) };
    }
    return { runId: this.runId, devices };
  }

  /** Missing inclusive ranges above the contiguous prefix (the ack moves independently of evaluation: see addStoredSeq). */
  private gaps(dev: DeviceRt): [number, number][] {
    return missingRanges(dev);
  }

  /** advance, then the device row; pairs of the device are added to `pairs` when its evaluated prefix moved. */
  private advanceDevice(dev: DeviceRt, fresh: ReadonlyMap<number, UplinkRecord> | null, now: number, pairs: Set<PairRt>): number {
    const before = dev.evalSeq;
    const alarms = this.advance(dev, fresh, now);
    if (dev.gapSince === null) this.gapped.delete(dev);
    else this.gapped.add(dev);
    this.saveDevice(dev);
    if (dev.evalSeq !== before) for (const { pair } of dev.pairs) pairs.add(pair);
    return alarms;
  }

  /**
   * Evaluates, in seq order, the records that just became evaluable (RULES.md "Evaluation order"):
   * the run that follows the evaluated prefix, and past a gap once gapTimeoutMs of virtual time have
   * passed since the first record above it was stored (the gap is abandoned: its seqs are skipped for
   * good). Returns alarms raised. Invariant between ticks: evalSeq + 1 is not stored, gapSince is
   * set exactly when records wait above it, and those records are in the store's `waiting`; so
   * progress starts with a fresh record or an old gap, and records stored above it in earlier ticks
   * follow from there.
   */
  private advance(dev: DeviceRt, fresh: ReadonlyMap<number, UplinkRecord> | null, now: number): number {
    const start = dev.evalSeq;
    let alarms = 0;
    if (fresh) {
      for (let r = fresh.get(start + 1); r; r = fresh.get(dev.evalSeq + 1)) alarms += this.evaluate(dev, evalRow(r), now);
      // The rest wait above a gap (late ones, at or below the prefix, are never evaluated).
      for (const r of fresh.values()) if (r.seq > dev.evalSeq) this.store.hold(evalRow(r), dev.device, now);
    }
    if (dev.evalSeq >= dev.maxSeq) {
      dev.gapSince = null;
      return alarms;
    }
    if (dev.evalSeq === start) {
      // The gap of the last tick, or (gapSince null) a new one whose first records above came now.
      dev.gapSince ??= now;
      if (now < dev.gapSince + this.gapWait()) return alarms;
    }
    const waited = dev.evalSeq;
    alarms += this.catchUp(dev, now);
    if (dev.evalSeq > waited) this.store.releaseWaiting(dev.device, dev.evalSeq);
    return alarms;
  }

  /**
   * Evaluates the waiting records from evalSeq + 1 on, in seq order, abandoning gaps older than the
   * gap timeout, up to a younger gap (gapSince: its age) or the last record (gapSince null).
   */
  private catchUp(dev: DeviceRt, now: number): number {
    let alarms = 0;
    for (;;) {
      const rows = this.store.waitingFrom(dev.device, dev.evalSeq + 1, CATCH_UP_CHUNK);
      for (const row of rows) {
        if (row.seq !== dev.evalSeq + 1) {
          // A gap: its age runs from the first record above it that was stored.
          const since = this.store.firstStoredAbove(dev.device, dev.evalSeq) ?? now;
          if (now < since + this.gapWait()) {
            dev.gapSince = since;
            return alarms;
          }
          this.stats.gapsAbandoned++;
          this.stats.seqsAbandoned += row.seq - dev.evalSeq - 1;
          this.gapLog(`${dev.device}: seq ${dev.evalSeq + 1}–${row.seq - 1} missing for ${now - since} virtual ms: gap abandoned, ` +
            `rules go on at seq ${row.seq} (ack stays at ${dev.contiguousSeq})`);
        }
        alarms += this.evaluate(dev, row, now);
      }
      if (rows.length < CATCH_UP_CHUNK) break;
    }
    dev.gapSince = null;
    return alarms;
  }

  /**
   * One record through the record-driven rules, exactly once (RULES.md "Evaluation order"), then
   * the evaluated prefix moves past it. BAR positions only join their pairs' queues here: the pair's
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
      for (const { pair, side } of dev.pairs) {
        const p = { seq: r.seq, time: r.time, lat: r.lat, lon: r.lon };
        pair.state.queues[side].push(p);
        this.store.queuePosition(pair.pairId, side, p);
      }
    }
    if (dev.type === 'pse') {
      const kind = evaluateCurfew(dev.presence, dev.curfew, r.time, r.type === 'event' ? r.event : null);
      if (kind) alarms += this.raise(dev.device, kind, r.seq, r.time, now);
    }
    dev.evalSeq = r.seq;
    dev.evalTime = r.time;
    return alarms;
  }

  /**
   * The pair's stream up to its watermark: the smaller of the two units' latest evaluated record
   * times (RULES.md "bar_pre_alert and bar_alert"); nothing before both units have one.
   */
  private evaluatePair(pair: PairRt, now: number): number {
    const [p, v] = pair.units;
    if (p.evalSeq === 0 || v.evalSeq === 0) return 0;
    const s = pair.state;
    const consumed = [...s.consumedSeq];
    const found = evaluatePair(s, pair.alertM, Math.min(p.evalTime, v.evalTime));
    let alarms = 0;
    for (const a of found) alarms += this.raise(pair.units[a.side].device, a.kind, a.seq, a.time, now, null, pair.pairId);
    for (const side of [PERPETRATOR, VICTIM] as const) {
      if (s.consumedSeq[side] !== consumed[side]) this.store.dropQueued(pair.pairId, side, s.consumedSeq[side]);
    }
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
    this.store.saveOperator({ operator: op.operator, open: op.open, ordinal: op.ordinal });
    this.opts.log(`${a.kind} ${op.operator} #${a.seq}: ${op.silent} of ${op.devices} devices silent (threshold ${op.threshold})`);
    return this.raise(op.operator, a.kind, a.seq, now, now);
  }

  /**
   * Stores one alarm (the feed sends it from the store); 1 when stored. While the alarm-id-overflow
   * fault is on the alarm is lost instead: not stored, no cursor, never raised later; the rule state
   * that raised it has moved on all the same.
   */
  private raise(deviceId: string, kind: AlarmKind, seq: number, deviceTime: number, raisedAt: number,
    zoneId: string | null = null, pairId: string | null = null): number {
    if (this.alarmIdOverflow) {
      this.stats.alarmsLost++;
      return 0;
    }
    const cursor = this.store.insertAlarm({ epoch: this.epoch, deviceId, kind, seq, deviceTime, raisedAt, zoneId, pairId });
    if (cursor === undefined) {
      this.opts.log(`duplicate alarm suppressed: ${deviceId} ${kind} seq ${seq}${zoneId ? ` zone ${zoneId}` : ''}${pairId ? ` pair ${pairId}` : ''}`);
      return 0;
    }
    return 1;
  }

  private saveDevice(dev: DeviceRt): void {
    this.store.saveDevice({
      device: dev.device, contiguousSeq: dev.contiguousSeq, storedAbove: dev.storedAbove, evalSeq: dev.evalSeq, evalTime: dev.evalTime, gapSince: dev.gapSince,
      maxSeq: dev.maxSeq, stored: dev.stored,
      lastSeq: dev.lastSeq, lastTime: dev.lastTime, openLossSeq: dev.openSeq, lossRearmedAt: dev.rearmedAt, batteryLow: dev.batteryLow,
      absent: dev.presence.absent, absentSince: dev.presence.absentSince, curfewAlarmPeriod: dev.presence.curfewAlarmPeriod,
    });
  }

  /** Rebuilds all in-memory state from the store: at start, after provisioning, after a failed commit. */
  private loadFromStore(): void {
    const json = this.store.getMeta(META_PROVISIONING);
    this.prov = json === undefined ? null : (JSON.parse(json) as Provisioning);
    this.epoch = Number(this.store.getMeta(META_EPOCH) ?? '0');
    this.alarmIdOverflow = this.store.getMeta(META_FAULT_ALARM_ID_OVERFLOW) === '1';
    this.clock = this.prov ? virtualClock(this.prov.clock, this.opts.realNow) : null;
    this.devices = new Map();
    this.operators = new Map();
    this.pending = [];
    this.pendingCount = 0;
    this.gapped = new Set();
    this.silenceDue = -Infinity;
    if (!this.prov) return;
    const schedules = new Schedules(this.prov.timeZone);
    const perOperator = new Map<string, number>();
    for (const d of this.prov.devices) perOperator.set(d.operator, (perOperator.get(d.operator) ?? 0) + 1);
    // Open and ordinal as stored with the S they followed from (a lost alarm moved them too).
    const massRows = new Map(this.store.loadOperators().map((o) => [o.operator, o]));
    for (const [operator, n] of perOperator) {
      const row = massRows.get(operator);
      const state = { ...newMassState(n, this.prov.massCommunicationLoss), open: row?.open ?? false, ordinal: row?.ordinal ?? 0 };
      this.operators.set(operator, { operator, ...state });
    }
    for (const [index, d] of this.prov.devices.entries()) {
      // Seqs below firstSeq were stored and evaluated before this run (a real device's history).
      const before = (d.firstSeq ?? 1) - 1;
      this.devices.set(d.deviceId, {
        device: d.deviceId, index, fresh: new Map(), type: d.type, op: this.operators.get(d.operator)!, contiguousSeq: before, storedAbove: [], evalSeq: before, evalTime: 0, gapSince: null,
        maxSeq: before, stored: 0,
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
      dev.storedAbove = [...row.storedAbove];
      dev.evalSeq = row.evalSeq;
      dev.evalTime = row.evalTime;
      dev.gapSince = row.gapSince;
      if (dev.gapSince !== null) this.gapped.add(dev);
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
   * BAR pairs with their stored state; each unit's queue is read back from the store's pair_queue
   * (the positions it had evaluated but the pair's stream had not yet taken), so a restart resumes
   * the stream exactly where the last commit left it.
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
        state.queues[side].push(...this.store.queuedPositions(pair.pairId, side));
        pair.units[side].pairs.push({ pair, side });
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
