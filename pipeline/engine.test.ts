import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Provisioning } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { Engine, type CommitResult } from './engine.ts';
import { Store } from './store.ts';

const T0 = 1_700_000_000_000;
const ZONE: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];

function prov(runId = 'run-1', offlineTimeoutMs = 600_000): Provisioning {
  return Provisioning.parse({
    runId,
    clock: { startVirtual: T0, startReal: 0, speed: 1 },
    offlineTimeoutMs,
    devices: [{ deviceId: 'd1', type: 'psem' }, { deviceId: 'd2', type: 'psem' }],
    zones: [{ zoneId: 'z1', kind: 'exclusion', deviceId: 'd1', polygon: ZONE }],
  });
}

const IN = { lat: 48.05, lon: 2.05 };
const OUT = { lat: 47.5, lon: 2.05 };
const pos = (device: string, seq: number, at: { lat: number; lon: number }): UplinkRecord =>
  ({ device, seq, time: T0 + seq * 1000, battery: 90, type: 'position', accuracy: 5, ...at });
const hb = (device: string, seq: number): UplinkRecord => ({ device, seq, time: T0 + seq * 1000, battery: 90, type: 'heartbeat' });

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** An engine on `file` whose real clock the test sets; commits are recorded. */
function open(file = ':memory:') {
  const store = new Store(file);
  const commits: CommitResult[] = [];
  const clock = { real: 0 };
  const engine = new Engine(store, { afterCommit: (r) => commits.push(r), log: () => {}, realNow: () => clock.real });
  cleanup.push(() => store.close());
  const put = (device: string, ...records: UplinkRecord[]): boolean => engine.accept(device, records);
  const alarms = () => store.alarmsAfter(0, 1000);
  return { store, engine, commits, clock, put, alarms, close: () => store.close() };
}

describe('engine', () => {
  it('ignores devices before and outside provisioning', () => {
    const e = open();
    expect(e.put('d1', hb('d1', 1))).toBe(false);
    e.engine.provision(prov());
    expect(e.put('dX', hb('dX', 1))).toBe(false);
    expect(e.put('d1', hb('d1', 1))).toBe(true);
    expect(e.engine.stats.unknownDevice).toBe(2);
  });

  it('a device provisioned with firstSeq (a real device with a history) is acked and evaluated from it', () => {
    const e = open();
    const p = prov();
    e.engine.provision({ ...p, devices: p.devices.map((d) => (d.deviceId === 'd1' ? { ...d, firstSeq: 501 } : d)) });
    expect(e.engine.summary().devices.d1).toMatchObject({ contiguousSeq: 500, gaps: [] });
    e.put('d1', pos('d1', 501, OUT), pos('d1', 502, IN));
    e.engine.flush();
    expect(e.commits.at(-1)?.acks.get('d1')).toBe(502);
    expect(e.alarms().map((a) => [a.kind, a.seq])).toEqual([['exclusion_zone_entry', 502]]);
    // A resend from before the run is a duplicate, never a gap.
    e.put('d1', pos('d1', 7, IN));
    e.engine.flush();
    expect(e.engine.stats.duplicates).toBe(1);
    expect(e.engine.summary().devices.d1).toMatchObject({ contiguousSeq: 502, stored: 2, gaps: [] });
  });

  it('acks the contiguous seq; a gap holds evaluation until it fills, then evaluates in seq order', () => {
    const e = open();
    e.engine.provision(prov());
    e.put('d1', pos('d1', 1, OUT));
    e.engine.flush();
    expect(e.commits.at(-1)?.acks.get('d1')).toBe(1);

    // 2 is missing: 3 (inside) is stored but not evaluated, the ack stays at 1.
    e.put('d1', pos('d1', 3, IN), pos('d1', 4, OUT));
    e.engine.flush();
    expect(e.commits.at(-1)?.acks.get('d1')).toBe(1);
    expect(e.alarms()).toEqual([]);
    expect(e.engine.summary().devices.d1).toEqual({ contiguousSeq: 1, maxSeq: 4, stored: 3, gaps: [[2, 2]] });
    // A resend of a record above the gap is a duplicate too.
    e.put('d1', pos('d1', 3, IN));
    e.engine.flush();
    expect(e.engine.stats.duplicates).toBe(1);
    expect(e.engine.summary().devices.d1?.stored).toBe(3);

    // 2 (inside) fills the gap: 2 enters (alarm), 3 stays inside (none), 4 exits.
    e.put('d1', pos('d1', 2, IN));
    e.engine.flush();
    expect(e.commits.at(-1)?.acks.get('d1')).toBe(4);
    expect(e.alarms().map((a) => [a.kind, a.seq, a.deviceTime, a.zoneId])).toEqual([['exclusion_zone_entry', 2, T0 + 2000, 'z1']]);

    // Re-entry raises again.
    e.put('d1', pos('d1', 5, IN));
    e.engine.flush();
    expect(e.alarms().map((a) => a.seq)).toEqual([2, 5]);
  });

  it('a resend is re-acked but never evaluated again', () => {
    const e = open();
    e.engine.provision(prov());
    e.put('d1', pos('d1', 1, IN), pos('d1', 2, OUT));
    e.engine.flush();
    expect(e.alarms()).toHaveLength(1);
    // The same records again, in one tick and across ticks.
    e.put('d1', pos('d1', 1, IN), pos('d1', 2, OUT));
    e.put('d1', pos('d1', 1, IN));
    e.engine.flush();
    expect(e.commits.at(-1)?.acks.get('d1')).toBe(2);
    expect(e.alarms()).toHaveLength(1);
    expect(e.engine.stats.duplicates).toBe(3);
    expect(e.engine.summary().devices.d1?.stored).toBe(2);
  });

  it('heartbeats and events do not change zone state', () => {
    const e = open();
    e.engine.provision(prov());
    e.put('d1', pos('d1', 1, IN), hb('d1', 2), { device: 'd1', seq: 3, time: T0, battery: 90, type: 'event', event: 'charger_connected' }, pos('d1', 4, IN));
    e.engine.flush();
    expect(e.alarms().map((a) => a.seq)).toEqual([1]);
  });

  it('a gap filled many ticks later releases records stored in earlier ticks (past a read chunk)', () => {
    const e = open();
    e.engine.provision(prov());
    // 2..1502 arrive first, alternating out/in every 100 records: entries at 101, 301, ...
    for (let s = 2; s <= 1502; s += 50) {
      const recs: UplinkRecord[] = [];
      for (let k = s; k < s + 50 && k <= 1502; k++) recs.push(pos('d1', k, Math.floor(k / 100) % 2 === 1 ? IN : OUT));
      e.put('d1', ...recs);
      e.engine.flush();
    }
    expect(e.alarms()).toEqual([]);
    e.put('d1', pos('d1', 1, OUT));
    e.engine.flush();
    expect(e.commits.at(-1)?.acks.get('d1')).toBe(1502);
    expect(e.alarms().map((a) => a.seq)).toEqual([100, 300, 500, 700, 900, 1100, 1300, 1500]);
  });

  it('communication_loss: once per silence from the highest seq received, re-armed by a higher seq', () => {
    const e = open();
    e.engine.provision(prov('run-1', 60_000));
    e.clock.real = 5000; // virtual T0 + 5 s
    e.engine.sweep();
    expect(e.alarms()).toEqual([]); // never heard from: not watched
    // seq 3 arrives above a gap: it is "received", so L = its time.
    e.put('d1', hb('d1', 1), hb('d1', 3));
    e.engine.flush();
    e.clock.real = 3000 + 60_000 - 1;
    e.engine.sweep();
    expect(e.alarms()).toEqual([]);
    e.clock.real = 3000 + 60_000;
    e.engine.sweep();
    e.clock.real = 500_000;
    e.engine.sweep();
    expect(e.alarms().map((a) => [a.kind, a.deviceId, a.seq, a.deviceTime, a.raisedAt])).toEqual([
      ['communication_loss', 'd1', 3, T0 + 3000, T0 + 63_000],
    ]);
    // Filling the gap (seq 2 < 3) does not re-arm; seq 4 does.
    e.put('d1', hb('d1', 2));
    e.engine.sweep();
    expect(e.alarms()).toHaveLength(1);
    // seq 4 (device time T0 + 4 s) arrives at virtual T0 + 600 s and re-arms: R = T0 + 600 s, so the
    // next silence is due at max(L, R) + timeout, not at L + timeout (long past).
    e.clock.real = 600_000;
    e.put('d1', hb('d1', 4));
    e.engine.sweep(); // commits 4 first
    e.clock.real = 660_000 - 1;
    e.engine.sweep();
    expect(e.alarms()).toHaveLength(1);
    e.clock.real = 660_000;
    e.engine.sweep();
    expect(e.alarms().map((a) => [a.seq, a.deviceTime, a.raisedAt])).toEqual([[3, T0 + 3000, T0 + 63_000], [4, T0 + 4000, T0 + 660_000]]);
  });

  it('a new run forgets records and state but keeps the cursor increasing', () => {
    const e = open();
    expect(e.engine.provision(prov('run-1'))).toEqual({ ok: true, feedCursor: 0 });
    e.put('d1', pos('d1', 1, IN));
    e.engine.flush();
    // Same run again: nothing forgotten.
    expect(e.engine.provision(prov('run-1'))).toEqual({ ok: true, feedCursor: 1 });
    expect(e.engine.summary().devices.d1?.contiguousSeq).toBe(1);
    expect(e.engine.provision(prov('run-2'))).toEqual({ ok: true, feedCursor: 1 });
    expect(e.engine.summary()).toEqual({
      runId: 'run-2',
      devices: { d1: { contiguousSeq: 0, maxSeq: 0, stored: 0, gaps: [] }, d2: { contiguousSeq: 0, maxSeq: 0, stored: 0, gaps: [] } },
    });
    // The same (device, seq) in the new run is new, and its alarm is raised again with a new cursor.
    e.put('d1', pos('d1', 1, IN));
    e.engine.flush();
    // Back to a run id used before is still a new run: its alarms are not mistaken for old ones.
    e.engine.provision(prov('run-1'));
    e.put('d1', pos('d1', 1, IN));
    e.engine.flush();
    expect(e.alarms().map((a) => [a.cursor, a.alarmId, a.seq])).toEqual([[1, 'A-1', 1], [2, 'A-2', 1], [3, 'A-3', 1]]);
  });

  it('state survives reopening the store file: provisioning, zone state, silence state, alarms', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-engine-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'p.db');
    const a = open(file);
    a.engine.provision(prov('run-1', 60_000));
    a.put('d1', pos('d1', 1, IN), pos('d1', 3, OUT));
    a.engine.flush();
    a.clock.real = 1e6;
    a.engine.sweep();
    expect(a.alarms().map((x) => x.kind)).toEqual(['exclusion_zone_entry', 'communication_loss']);
    a.close();

    const b = open(file);
    expect(b.engine.runId).toBe('run-1');
    expect(b.engine.summary().devices.d1).toEqual({ contiguousSeq: 1, maxSeq: 3, stored: 2, gaps: [[2, 2]] });
    b.clock.real = 2e6;
    b.engine.sweep(); // still open: no second communication_loss
    // Still inside z1 after the restart: seq 2 inside raises nothing; 3 (stored before) exits; 4 re-enters.
    b.put('d1', pos('d1', 2, IN));
    b.put('d1', pos('d1', 4, IN));
    b.engine.flush();
    expect(b.alarms().map((x) => [x.kind, x.seq])).toEqual([['exclusion_zone_entry', 1], ['communication_loss', 3], ['exclusion_zone_entry', 4]]);
  });
});
