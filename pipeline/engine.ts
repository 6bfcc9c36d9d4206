/**
 * The run's state and the group commit: records wait in memory until the next commit tick, which
 * runs ONE transaction that stores them (deduped by (device, seq)), advances each device's
 * contiguous prefix, evaluates the newly contiguous records in seq order through the rules, and
 * stores rule state and alarms with them (docs/RULES.md "Evaluation order"). Only after the commit
 * does `afterCommit` publish acks and wake the feed (DESIGN.md "Uplink": ack after durably stored).
 */
import type { AlarmKind } from '../protocol/alarms.ts';
import { virtualClock, type Clock } from '../protocol/clock.ts';
import type { DeviceIngest, IngestSummary, Provisioning, ProvisioningResult } from '../protocol/provisioning.ts';
import type { RecordType, UplinkRecord } from '../protocol/uplink.ts';
import { compileRing } from './geometry.ts';
import { checkSilence, noteReceived, type SilenceState } from './rules/communication-loss.ts';
import { evaluatePosition, type Zone, type ZoneStates } from './rules/exclusion-zone.ts';
import type { Store } from './store.ts';

interface DeviceRt extends SilenceState {
  readonly device: string;
  contiguousSeq: number;
  maxSeq: number;
  stored: number;
  zones: Zone[];
  zoneStates: ZoneStates;
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
            noteReceived(dev, r.seq, r.time);
            let m = fresh.get(dev);
            if (!m) fresh.set(dev, (m = new Map()));
            m.set(r.seq, r);
          }
        }
        for (const [dev, recs] of fresh) {
          alarms += this.advance(dev, recs, now);
          this.saveDevice(dev);
        }
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

  /** Watchdog sweep (RULES.md communication_loss). Commits pending records first so L is current. */
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
          alarms += this.raise(dev.device, 'communication_loss', a.seq, a.deviceTime, now, null);
          this.saveDevice(dev);
        }
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
    this.opts.log(`provisioned run ${p.runId}: ${p.devices.length} devices, ${p.zones.length} zones, speed ${p.clock.speed}`);
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
    for (let r = fresh.get(start + 1); r; r = fresh.get(dev.contiguousSeq + 1)) {
      alarms += this.evaluate(dev, r.seq, r.time, r.type, r.type === 'position' ? r.lat : null, r.type === 'position' ? r.lon : null, now);
      dev.contiguousSeq = r.seq;
    }
    if (dev.contiguousSeq === start) return alarms;
    while (dev.contiguousSeq < dev.maxSeq) {
      const rows = this.store.recordsFrom(dev.device, dev.contiguousSeq + 1, CATCH_UP_CHUNK);
      for (const row of rows) {
        if (row.seq !== dev.contiguousSeq + 1) return alarms;
        alarms += this.evaluate(dev, row.seq, row.time, row.type, row.lat, row.lon, now);
        dev.contiguousSeq = row.seq;
      }
      if (rows.length < CATCH_UP_CHUNK) break;
    }
    return alarms;
  }

  /** One record through the record-driven rules, exactly once (RULES.md "Evaluation order"). */
  private evaluate(dev: DeviceRt, seq: number, time: number, type: RecordType, lat: number | null, lon: number | null, now: number): number {
    if (type !== 'position' || dev.zones.length === 0 || lat === null || lon === null) return 0;
    let alarms = 0;
    for (const c of evaluatePosition(lat, lon, dev.zones, dev.zoneStates)) {
      this.store.saveZoneState(dev.device, c.zoneId, c.inside);
      if (c.alarm) alarms += this.raise(dev.device, 'exclusion_zone_entry', seq, time, now, c.zoneId);
    }
    return alarms;
  }

  private raise(deviceId: string, kind: AlarmKind, seq: number, deviceTime: number, raisedAt: number, zoneId: string | null): number {
    const cursor = this.store.insertAlarm({ epoch: this.epoch, deviceId, kind, seq, deviceTime, raisedAt, zoneId });
    if (cursor === undefined) {
      this.opts.log(`duplicate alarm suppressed: ${deviceId} ${kind} seq ${seq}${zoneId ? ` zone ${zoneId}` : ''}`);
      return 0;
    }
    return 1;
  }

  private saveDevice(dev: DeviceRt): void {
    this.store.saveDevice({
      device: dev.device, contiguousSeq: dev.contiguousSeq, maxSeq: dev.maxSeq, stored: dev.stored,
      lastSeq: dev.lastSeq, lastTime: dev.lastTime, openLossSeq: dev.openSeq,
    });
  }

  /** Rebuilds all in-memory state from the store: at start, after provisioning, after a failed commit. */
  private loadFromStore(): void {
    const json = this.store.getMeta(META_PROVISIONING);
    this.prov = json === undefined ? null : (JSON.parse(json) as Provisioning);
    this.epoch = Number(this.store.getMeta(META_EPOCH) ?? '0');
    this.clock = this.prov ? virtualClock(this.prov.clock, this.opts.realNow) : null;
    this.devices = new Map();
    this.pending = [];
    this.pendingCount = 0;
    if (!this.prov) return;
    for (const d of this.prov.devices) {
      this.devices.set(d.deviceId, {
        device: d.deviceId, contiguousSeq: 0, maxSeq: 0, stored: 0, lastSeq: 0, lastTime: 0, openSeq: null,
        zones: [], zoneStates: new Map(),
      });
    }
    for (const z of this.prov.zones) this.devices.get(z.deviceId)?.zones.push({ zoneId: z.zoneId, ring: compileRing(z.polygon) });
    for (const row of this.store.loadDevices()) {
      const dev = this.devices.get(row.device);
      if (!dev) continue;
      dev.contiguousSeq = row.contiguousSeq;
      dev.maxSeq = row.maxSeq;
      dev.stored = row.stored;
      dev.lastSeq = row.lastSeq;
      dev.lastTime = row.lastTime;
      dev.openSeq = row.openLossSeq;
    }
    for (const z of this.store.loadZoneStates()) this.devices.get(z.device)?.zoneStates.set(z.zoneId, z.inside);
  }
}
