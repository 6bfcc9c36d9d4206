/**
 * The pipeline's SQLite store (better-sqlite3, synchronous): records, per-device ingest and rule
 * state, alarms, provisioning. All statements are prepared once; the engine wraps each commit tick
 * in one transaction (group commit), so records, rule state and alarms land together or not at all
 * (docs/RULES.md: rule state "is stored with the records it came from, in the same transaction").
 */
import Database from 'better-sqlite3';
import type { AlarmKind } from '../protocol/alarms.ts';
import { VigilError } from '../protocol/errors.ts';
import type { RecordType, UplinkRecord } from '../protocol/uplink.ts';

/**
 * 2: every rule of docs/RULES.md (battery, curfew, inclusion zones, BAR pairs); alarms carry a pair.
 * 3: devices keep communication_loss's re-arm time R (loss_rearmed_at); mass alarms (deviceId = operator).
 * 4: the gap timeout (RULES.md "Evaluation order"): records keep the virtual time they were stored
 *    (stored_at) and whether they arrived after their seq was abandoned (late); devices keep the
 *    evaluated prefix (eval_seq, eval_time) apart from the acknowledged contiguous prefix, and the age
 *    of the gap evaluation waits at (gap_since); operators keep their mass state (operator_state),
 *    since a lost alarm (the alarm-id-overflow fault) cannot be derived from the stored ones.
 * 5: appends stay appends (docs/PERFORMANCE.md "The store as it fills"): records are an arrival-ordered
 *    log (rowid, no (device, seq) key: with 15,000 devices each appending its next seq, that key put
 *    every record on another B-tree page, and commits slowed as the table grew); devices keep the runs
 *    of seqs stored above their ack (stored_above), from which duplicates are refused; records stored
 *    above the evaluated prefix wait in `waiting` and BAR positions not yet in their pair's stream in
 *    `pair_queue`, the only records the rules read back, both small.
 */
const SCHEMA_VERSION = 5;

/** A device's ingest progress and record-driven rule state (pair state is per pair: BarRow). */
export interface DeviceRow {
  readonly device: string;
  /** Highest seq such that 1..contiguousSeq are all stored: the ack. */
  readonly contiguousSeq: number;
  /** Stored seqs above contiguousSeq, as runs (pipeline/stored-seqs.ts). */
  readonly storedAbove: readonly number[];
  /** Highest seq evaluated by the rules: ≥ contiguousSeq, above it once a gap was abandoned. */
  readonly evalSeq: number;
  /** Device time of the record at evalSeq (the unit's share of a BAR watermark), 0 before any. */
  readonly evalTime: number;
  /** Virtual time the first record above the gap at evalSeq + 1 was stored; null when none waits above it. */
  readonly gapSince: number | null;
  readonly maxSeq: number;
  readonly stored: number;
  readonly lastSeq: number;
  readonly lastTime: number;
  readonly openLossSeq: number | null;
  /** Virtual time communication_loss was last re-armed (R), null before any. */
  readonly lossRearmedAt: number | null;
  readonly batteryLow: boolean;
  readonly absent: boolean;
  readonly absentSince: number;
  readonly curfewAlarmPeriod: number | null;
}

/** What rules need of a stored record. */
export interface EvalRow {
  readonly seq: number;
  readonly time: number;
  readonly type: RecordType;
  readonly battery: number;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly event: string | null;
}

/** A BAR pair's state: level, each unit's latest position in the stream, and how far each unit was taken in. */
export interface BarRow {
  readonly pairId: string;
  readonly level: number;
  readonly pLat: number | null;
  readonly pLon: number | null;
  readonly vLat: number | null;
  readonly vLon: number | null;
  readonly pSeq: number;
  readonly vSeq: number;
}

/** A position record waiting for a BAR pair's watermark (in its unit's queue, index: Side). */
export interface PositionRow {
  readonly seq: number;
  readonly time: number;
  readonly lat: number;
  readonly lon: number;
}

export interface NewAlarm {
  readonly epoch: number;
  readonly deviceId: string;
  readonly kind: AlarmKind;
  readonly seq: number;
  readonly deviceTime: number;
  readonly raisedAt: number;
  readonly zoneId: string | null;
  readonly pairId: string | null;
}

/** A mobile operator's mass_communication_loss state (RULES.md): a loss open, and the last outage ordinal. */
export interface OperatorRow {
  readonly operator: string;
  readonly open: boolean;
  readonly ordinal: number;
}

export interface AlarmRow extends Omit<NewAlarm, 'epoch'> {
  readonly cursor: number;
  readonly alarmId: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- Every record stored, in arrival order (the rowid): an append, whatever the device. Written, never
-- read back by the rules: duplicates are refused from devices.stored_above, and what evaluation still
-- needs is in waiting and pair_queue.
CREATE TABLE IF NOT EXISTS records (
  device TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, type TEXT NOT NULL,
  battery REAL NOT NULL, lat REAL, lon REAL, accuracy REAL, event TEXT,
  -- stored_at: virtual time of the commit that stored it. late: stored after its seq was abandoned
  -- (RULES.md "Evaluation order"): kept for the summary, never evaluated.
  stored_at INTEGER NOT NULL, late INTEGER NOT NULL);
-- Records stored above their device's evaluated prefix (held back by a gap), until evaluated: the
-- same columns as the rules read, and stored_at (a gap's age runs from the earliest above it).
CREATE TABLE IF NOT EXISTS waiting (
  device TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, type TEXT NOT NULL,
  battery REAL NOT NULL, lat REAL, lon REAL, event TEXT, stored_at INTEGER NOT NULL,
  PRIMARY KEY (device, seq)) WITHOUT ROWID;
-- Positions a BAR unit has evaluated that its pair's stream has not taken yet (side 0: perpetrator).
CREATE TABLE IF NOT EXISTS pair_queue (
  pair_id TEXT NOT NULL, side INTEGER NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  PRIMARY KEY (pair_id, side, seq)) WITHOUT ROWID;
-- stored_above: JSON of StoredSeqs.storedAbove (pipeline/stored-seqs.ts), null when empty.
CREATE TABLE IF NOT EXISTS devices (
  device TEXT PRIMARY KEY, contiguous_seq INTEGER NOT NULL, stored_above TEXT, eval_seq INTEGER NOT NULL, eval_time INTEGER NOT NULL,
  gap_since INTEGER, max_seq INTEGER NOT NULL, stored INTEGER NOT NULL, last_seq INTEGER NOT NULL, last_time INTEGER NOT NULL,
  open_loss_seq INTEGER, loss_rearmed_at INTEGER, battery_low INTEGER NOT NULL, absent INTEGER NOT NULL, absent_since INTEGER NOT NULL,
  curfew_alarm_period INTEGER) WITHOUT ROWID;
-- active: inside (exclusion zone) or violating (inclusion zone); zone ids are unique per device.
CREATE TABLE IF NOT EXISTS zone_state (
  device TEXT NOT NULL, zone_id TEXT NOT NULL, active INTEGER NOT NULL,
  PRIMARY KEY (device, zone_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bar_state (
  pair_id TEXT PRIMARY KEY, level INTEGER NOT NULL, p_lat REAL, p_lon REAL, v_lat REAL, v_lon REAL,
  p_seq INTEGER NOT NULL, v_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS operator_state (
  operator TEXT PRIMARY KEY, open INTEGER NOT NULL, ordinal INTEGER NOT NULL) WITHOUT ROWID;
-- AUTOINCREMENT: a cursor is never reused, even across runs (the feed's "no gap, ever").
CREATE TABLE IF NOT EXISTS alarms (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  alarm_id TEXT GENERATED ALWAYS AS ('A-' || cursor) VIRTUAL,
  epoch INTEGER NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
  device_time INTEGER NOT NULL, raised_at INTEGER NOT NULL, zone_id TEXT, pair_id TEXT);
-- RULES.md: an alarm is (device, kind, seq[, zone][, pair]); raising it twice would be a duplicate.
-- Keyed by the run epoch (not runId) so a run id reused later still gets its alarms. seq before
-- device: alarms come in roughly seq order across the fleet, so inserts stay near the index's end
-- rather than on a page per device (bench/pipeline-store.bench.ts: 800 → 1,600 disk bytes per record
-- from 0.5 to 3 M records with device first, 383 → 441 to 2 M with seq first, at 119 alarms per
-- 1,000 records). Nothing looks alarms up by device.
CREATE UNIQUE INDEX IF NOT EXISTS alarms_identity ON alarms (epoch, seq, device, kind, coalesce(zone_id, ''), coalesce(pair_id, ''));
`;

export class Store {
  private readonly db: Database.Database;
  private readonly st;
  /** One transaction wrapper for every commit (db.transaction builds a new one per call: ~10 µs). */
  private readonly tx: (fn: () => unknown) => unknown;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL, not NORMAL: in WAL mode NORMAL does not fsync at commit, so a power loss could undo a
    // commit whose records were already acknowledged to devices, which then drop them from their
    // outbox (DESIGN.md "Uplink": ack only after durably stored). Group commit keeps fsyncs few.
    this.db.pragma('synchronous = FULL');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version !== 0 && version !== SCHEMA_VERSION) {
      this.db.close();
      throw new VigilError('VIGIL_USAGE', `${file}: pipeline store schema ${version}, this pipeline reads ${SCHEMA_VERSION}`,
        'start the pipeline on a new --db file, or delete this one (its records and alarms are not carried over)');
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const db = this.db;
    this.tx = db.transaction((fn: () => unknown) => fn());
    this.st = {
      getMeta: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare<[string, string]>('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      insertRecord: db.prepare<[string, number, number, string, number, number | null, number | null, number | null, string | null, number, number]>(
        `INSERT INTO records (device, seq, time, type, battery, lat, lon, accuracy, event, stored_at, late)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      hold: db.prepare<[string, number, number, string, number, number | null, number | null, string | null, number]>(
        'INSERT INTO waiting (device, seq, time, type, battery, lat, lon, event, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      waitingFrom: db.prepare<[string, number, number], EvalRow>(
        'SELECT seq, time, type, battery, lat, lon, event FROM waiting WHERE device = ? AND seq >= ? ORDER BY seq LIMIT ?'),
      releaseWaiting: db.prepare<[string, number]>('DELETE FROM waiting WHERE device = ? AND seq <= ?'),
      firstStoredAbove: db.prepare<[string, number], number | null>('SELECT min(stored_at) FROM waiting WHERE device = ? AND seq > ?').pluck(),
      queuePosition: db.prepare<[string, number, number, number, number, number]>(
        'INSERT INTO pair_queue (pair_id, side, seq, time, lat, lon) VALUES (?, ?, ?, ?, ?, ?)'),
      dropQueued: db.prepare<[string, number, number]>('DELETE FROM pair_queue WHERE pair_id = ? AND side = ? AND seq <= ?'),
      queuedPositions: db.prepare<[string, number], PositionRow>('SELECT seq, time, lat, lon FROM pair_queue WHERE pair_id = ? AND side = ? ORDER BY seq'),
      saveDevice: db.prepare<[string, number, string | null, number, number, number | null, number, number, number, number, number | null, number | null, number, number, number, number | null]>(
        `INSERT OR REPLACE INTO devices (device, contiguous_seq, stored_above, eval_seq, eval_time, gap_since, max_seq, stored, last_seq, last_time,
         open_loss_seq, loss_rearmed_at, battery_low, absent, absent_since, curfew_alarm_period) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      loadDevices: db.prepare<[], Omit<DeviceRow, 'batteryLow' | 'absent' | 'storedAbove'> & { batteryLow: number; absent: number; storedAbove: string | null }>(
        `SELECT device, contiguous_seq AS contiguousSeq, stored_above AS storedAbove, eval_seq AS evalSeq, eval_time AS evalTime, gap_since AS gapSince, max_seq AS maxSeq, stored,
         last_seq AS lastSeq, last_time AS lastTime, open_loss_seq AS openLossSeq, loss_rearmed_at AS lossRearmedAt, battery_low AS batteryLow,
         absent, absent_since AS absentSince, curfew_alarm_period AS curfewAlarmPeriod FROM devices`),
      saveZone: db.prepare<[string, string, number]>('INSERT OR REPLACE INTO zone_state (device, zone_id, active) VALUES (?, ?, ?)'),
      loadZones: db.prepare<[], { device: string; zoneId: string; active: number }>(
        'SELECT device, zone_id AS zoneId, active FROM zone_state'),
      saveBar: db.prepare<[string, number, number | null, number | null, number | null, number | null, number, number]>(
        'INSERT OR REPLACE INTO bar_state (pair_id, level, p_lat, p_lon, v_lat, v_lon, p_seq, v_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      loadBars: db.prepare<[], BarRow>(
        `SELECT pair_id AS pairId, level, p_lat AS pLat, p_lon AS pLon, v_lat AS vLat, v_lon AS vLon, p_seq AS pSeq,
         v_seq AS vSeq FROM bar_state`),
      saveOperator: db.prepare<[string, number, number]>('INSERT OR REPLACE INTO operator_state (operator, open, ordinal) VALUES (?, ?, ?)'),
      loadOperators: db.prepare<[], { operator: string; open: number; ordinal: number }>('SELECT operator, open, ordinal FROM operator_state'),
      insertAlarm: db.prepare<[number, string, string, number, number, number, string | null, string | null]>(
        'INSERT OR IGNORE INTO alarms (epoch, device, kind, seq, device_time, raised_at, zone_id, pair_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      alarmsAfter: db.prepare<[number, number], AlarmRow>(
        `SELECT cursor, alarm_id AS alarmId, device AS deviceId, kind, seq, device_time AS deviceTime,
         raised_at AS raisedAt, zone_id AS zoneId, pair_id AS pairId FROM alarms WHERE cursor > ? ORDER BY cursor LIMIT ?`),
      head: db.prepare<[], number>('SELECT coalesce(max(cursor), 0) FROM alarms').pluck(),
      clearRecords: db.prepare('DELETE FROM records'),
      clearWaiting: db.prepare('DELETE FROM waiting'),
      clearPairQueue: db.prepare('DELETE FROM pair_queue'),
      clearDevices: db.prepare('DELETE FROM devices'),
      clearZones: db.prepare('DELETE FROM zone_state'),
      clearBars: db.prepare('DELETE FROM bar_state'),
      clearOperators: db.prepare('DELETE FROM operator_state'),
      deleteMeta: db.prepare<[string]>('DELETE FROM meta WHERE key = ?'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.tx(fn) as T;
  }

  getMeta(key: string): string | undefined {
    return this.st.getMeta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.st.setMeta.run(key, value);
  }

  deleteMeta(key: string): void {
    this.st.deleteMeta.run(key);
  }

  /**
   * Appends a new record; the caller refuses duplicates first (pipeline/stored-seqs.ts). `storedAt`:
   * virtual now of the commit; `late`: its seq was abandoned before it arrived (never evaluated).
   */
  insertRecord(r: UplinkRecord, storedAt: number, late: boolean): void {
    const pos = r.type === 'position';
    this.st.insertRecord.run(
      r.device, r.seq, r.time, r.type, r.battery,
      pos ? r.lat : null, pos ? r.lon : null, pos ? r.accuracy : null,
      r.type === 'event' ? r.event : null, storedAt, late ? 1 : 0,
    );
  }

  /** A record stored in this commit that waits above its device's evaluated prefix, `storedAt` as given to insertRecord. */
  hold(r: EvalRow, device: string, storedAt: number): void {
    this.st.hold.run(device, r.seq, r.time, r.type, r.battery, r.lat, r.lon, r.event, storedAt);
  }

  /** Waiting records of `device` with seq ≥ `fromSeq`, in seq order, at most `limit`. */
  waitingFrom(device: string, fromSeq: number, limit: number): EvalRow[] {
    return this.st.waitingFrom.all(device, fromSeq, limit);
  }

  /** Waiting records of `device` up to `seq` have been evaluated: they wait no more. */
  releaseWaiting(device: string, seq: number): void {
    this.st.releaseWaiting.run(device, seq);
  }

  /** The earliest virtual time a waiting record of `device` with seq > `seq` was stored; null when none waits. */
  firstStoredAbove(device: string, seq: number): number | null {
    return this.st.firstStoredAbove.get(device, seq) ?? null;
  }

  /** A position joins the queue of `side` (0: perpetrator, 1: victim) of a BAR pair. */
  queuePosition(pairId: string, side: number, p: PositionRow): void {
    this.st.queuePosition.run(pairId, side, p.seq, p.time, p.lat, p.lon);
  }

  /** The pair's stream took the positions of `side` up to `seq`. */
  dropQueued(pairId: string, side: number, seq: number): void {
    this.st.dropQueued.run(pairId, side, seq);
  }

  /** The positions of `side` the pair's stream has not taken yet, in seq order. */
  queuedPositions(pairId: string, side: number): PositionRow[] {
    return this.st.queuedPositions.all(pairId, side);
  }

  saveDevice(d: DeviceRow): void {
    this.st.saveDevice.run(d.device, d.contiguousSeq, d.storedAbove.length > 0 ? JSON.stringify(d.storedAbove) : null, d.evalSeq, d.evalTime, d.gapSince, d.maxSeq, d.stored, d.lastSeq, d.lastTime, d.openLossSeq,
      d.lossRearmedAt, d.batteryLow ? 1 : 0, d.absent ? 1 : 0, d.absentSince, d.curfewAlarmPeriod);
  }

  loadDevices(): DeviceRow[] {
    return this.st.loadDevices.all().map((d) => ({
      ...d, storedAbove: d.storedAbove === null ? [] : (JSON.parse(d.storedAbove) as number[]), batteryLow: d.batteryLow === 1, absent: d.absent === 1,
    }));
  }

  /** `active`: inside an exclusion zone, or violating an inclusion zone. */
  saveZoneState(device: string, zoneId: string, active: boolean): void {
    this.st.saveZone.run(device, zoneId, active ? 1 : 0);
  }

  loadZoneStates(): { device: string; zoneId: string; active: boolean }[] {
    return this.st.loadZones.all().map((z) => ({ device: z.device, zoneId: z.zoneId, active: z.active === 1 }));
  }

  saveBarState(b: BarRow): void {
    this.st.saveBar.run(b.pairId, b.level, b.pLat, b.pLon, b.vLat, b.vLon, b.pSeq, b.vSeq);
  }

  loadBarStates(): BarRow[] {
    return this.st.loadBars.all();
  }

  saveOperator(o: OperatorRow): void {
    this.st.saveOperator.run(o.operator, o.open ? 1 : 0, o.ordinal);
  }

  loadOperators(): OperatorRow[] {
    return this.st.loadOperators.all().map((o) => ({ operator: o.operator, open: o.open === 1, ordinal: o.ordinal }));
  }

  /** The new alarm's cursor, or undefined when the same alarm (RULES.md identity) already exists. */
  insertAlarm(a: NewAlarm): number | undefined {
    const r = this.st.insertAlarm.run(a.epoch, a.deviceId, a.kind, a.seq, a.deviceTime, a.raisedAt, a.zoneId, a.pairId);
    return r.changes === 1 ? Number(r.lastInsertRowid) : undefined;
  }

  alarmsAfter(cursor: number, limit: number): AlarmRow[] {
    return this.st.alarmsAfter.all(cursor, limit);
  }

  /** The highest cursor raised so far, 0 when none. */
  head(): number {
    return this.st.head.get() ?? 0;
  }

  /** A new run: forget records, ingest and rule state. Alarms stay, so cursors keep increasing. */
  clearRun(): void {
    this.st.clearRecords.run();
    this.st.clearWaiting.run();
    this.st.clearPairQueue.run();
    this.st.clearDevices.run();
    this.st.clearZones.run();
    this.st.clearBars.run();
    this.st.clearOperators.run();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
