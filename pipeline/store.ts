/**
 * The pipeline's SQLite store (better-sqlite3, synchronous): records, per-device ingest and rule
 * state, alarms, provisioning. All statements are prepared once; the engine wraps each commit tick
 * in one transaction (group commit), so records, rule state and alarms land together or not at all
 * (docs/RULES.md: rule state "is stored with the records it came from, in the same transaction").
 */
import Database from 'better-sqlite3';
import type { AlarmKind } from '../protocol/alarms.ts';
import type { RecordType, UplinkRecord } from '../protocol/uplink.ts';

const SCHEMA_VERSION = 1;

export interface DeviceRow {
  readonly device: string;
  readonly contiguousSeq: number;
  readonly maxSeq: number;
  readonly stored: number;
  readonly lastSeq: number;
  readonly lastTime: number;
  readonly openLossSeq: number | null;
}

/** What rules need of a stored record. */
export interface EvalRow {
  readonly seq: number;
  readonly time: number;
  readonly type: RecordType;
  readonly lat: number | null;
  readonly lon: number | null;
}

export interface NewAlarm {
  readonly epoch: number;
  readonly deviceId: string;
  readonly kind: AlarmKind;
  readonly seq: number;
  readonly deviceTime: number;
  readonly raisedAt: number;
  readonly zoneId: string | null;
}

export interface AlarmRow extends Omit<NewAlarm, 'epoch'> {
  readonly cursor: number;
  readonly alarmId: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
  device TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, type TEXT NOT NULL,
  battery REAL NOT NULL, lat REAL, lon REAL, accuracy REAL, event TEXT,
  PRIMARY KEY (device, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS devices (
  device TEXT PRIMARY KEY, contiguous_seq INTEGER NOT NULL, max_seq INTEGER NOT NULL,
  stored INTEGER NOT NULL, last_seq INTEGER NOT NULL, last_time INTEGER NOT NULL,
  open_loss_seq INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS zone_state (
  device TEXT NOT NULL, zone_id TEXT NOT NULL, inside INTEGER NOT NULL,
  PRIMARY KEY (device, zone_id)) WITHOUT ROWID;
-- AUTOINCREMENT: a cursor is never reused, even across runs (the feed's "no gap, ever").
CREATE TABLE IF NOT EXISTS alarms (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  alarm_id TEXT GENERATED ALWAYS AS ('A-' || cursor) VIRTUAL,
  epoch INTEGER NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
  device_time INTEGER NOT NULL, raised_at INTEGER NOT NULL, zone_id TEXT);
-- RULES.md: an alarm is (device, kind, seq[, zone]); raising it twice would be a duplicate. Keyed by
-- the run epoch (not runId) so a run id reused later still gets its alarms.
CREATE UNIQUE INDEX IF NOT EXISTS alarms_identity ON alarms (epoch, device, kind, seq, coalesce(zone_id, ''));
`;

export class Store {
  private readonly db: Database.Database;
  private readonly st;

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
      throw new Error(`${file}: pipeline store schema ${version}, this pipeline reads ${SCHEMA_VERSION}`);
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const db = this.db;
    this.st = {
      getMeta: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare<[string, string]>('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      insertRecord: db.prepare<[string, number, number, string, number, number | null, number | null, number | null, string | null]>(
        'INSERT OR IGNORE INTO records (device, seq, time, type, battery, lat, lon, accuracy, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      recordsFrom: db.prepare<[string, number, number], EvalRow>(
        'SELECT seq, time, type, lat, lon FROM records WHERE device = ? AND seq >= ? ORDER BY seq LIMIT ?'),
      seqsAbove: db.prepare<[string, number], number>('SELECT seq FROM records WHERE device = ? AND seq > ? ORDER BY seq').pluck(),
      saveDevice: db.prepare<[string, number, number, number, number, number, number | null]>(
        'INSERT OR REPLACE INTO devices (device, contiguous_seq, max_seq, stored, last_seq, last_time, open_loss_seq) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      loadDevices: db.prepare<[], DeviceRow>(
        `SELECT device, contiguous_seq AS contiguousSeq, max_seq AS maxSeq, stored, last_seq AS lastSeq,
         last_time AS lastTime, open_loss_seq AS openLossSeq FROM devices`),
      saveZone: db.prepare<[string, string, number]>('INSERT OR REPLACE INTO zone_state (device, zone_id, inside) VALUES (?, ?, ?)'),
      loadZones: db.prepare<[], { device: string; zoneId: string; inside: number }>(
        'SELECT device, zone_id AS zoneId, inside FROM zone_state'),
      insertAlarm: db.prepare<[number, string, string, number, number, number, string | null]>(
        'INSERT OR IGNORE INTO alarms (epoch, device, kind, seq, device_time, raised_at, zone_id) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      alarmsAfter: db.prepare<[number, number], AlarmRow>(
        `SELECT cursor, alarm_id AS alarmId, device AS deviceId, kind, seq, device_time AS deviceTime,
         raised_at AS raisedAt, zone_id AS zoneId FROM alarms WHERE cursor > ? ORDER BY cursor LIMIT ?`),
      head: db.prepare<[], number>('SELECT coalesce(max(cursor), 0) FROM alarms').pluck(),
      clearRecords: db.prepare('DELETE FROM records'),
      clearDevices: db.prepare('DELETE FROM devices'),
      clearZones: db.prepare('DELETE FROM zone_state'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    return this.st.getMeta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.st.setMeta.run(key, value);
  }

  /** True when the record is new; false for a duplicate (device, seq), which is ignored. */
  insertRecord(r: UplinkRecord): boolean {
    const pos = r.type === 'position';
    return this.st.insertRecord.run(
      r.device, r.seq, r.time, r.type, r.battery,
      pos ? r.lat : null, pos ? r.lon : null, pos ? r.accuracy : null,
      r.type === 'event' ? r.event : null,
    ).changes === 1;
  }

  /** Stored records of `device` with seq ≥ `fromSeq`, in seq order. */
  recordsFrom(device: string, fromSeq: number, limit: number): EvalRow[] {
    return this.st.recordsFrom.all(device, fromSeq, limit);
  }

  seqsAbove(device: string, seq: number): number[] {
    return this.st.seqsAbove.all(device, seq);
  }

  saveDevice(d: DeviceRow): void {
    this.st.saveDevice.run(d.device, d.contiguousSeq, d.maxSeq, d.stored, d.lastSeq, d.lastTime, d.openLossSeq);
  }

  loadDevices(): DeviceRow[] {
    return this.st.loadDevices.all();
  }

  saveZoneState(device: string, zoneId: string, inside: boolean): void {
    this.st.saveZone.run(device, zoneId, inside ? 1 : 0);
  }

  loadZoneStates(): { device: string; zoneId: string; inside: boolean }[] {
    return this.st.loadZones.all().map((z) => ({ device: z.device, zoneId: z.zoneId, inside: z.inside === 1 }));
  }

  /** The new alarm's cursor, or undefined when the same alarm (RULES.md identity) already exists. */
  insertAlarm(a: NewAlarm): number | undefined {
    const r = this.st.insertAlarm.run(a.epoch, a.deviceId, a.kind, a.seq, a.deviceTime, a.raisedAt, a.zoneId);
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
    this.st.clearDevices.run();
    this.st.clearZones.run();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
