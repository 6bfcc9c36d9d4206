/**
 * The gap timeout (docs/RULES.md "Evaluation order"): records lost for good (broker-ack firmware in an
 * ack-then-lose outage, an outbox that overflowed) must not stop a device's rules forever. After
 * gapTimeoutMs of virtual time since the first record above the lowest missing seq was stored, the
 * rules move past it; the ack never does; a record of an abandoned seq arriving later is stored, not
 * evaluated. Everything survives a restart (the store file reopened, as after a kill -9).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDbFile } from './test-support.ts';
import { Provisioning } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { DEFAULT_GAP_TIMEOUT_MS, Engine, type CommitResult } from './engine.ts';
import { EARTH_RADIUS_M } from './geometry.ts';
import { GAP_TIMEOUT_ENV, gapTimeoutFromEnv } from './server.ts';
import { Store } from './store.ts';

const T0 = Date.parse('2021-10-25T12:00:00Z');
const MIN = 60_000;
const GAP = 10 * MIN;
const ZONE: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];
const IN = { lat: 48.05, lon: 2.05 };
const OUT = { lat: 47.5, lon: 2.05 };
const VICTIM_AT = { lat: 48.85, lon: 2.35 };
const north = (m: number) => ({ lat: VICTIM_AT.lat + (m / EARTH_RADIUS_M) * (180 / Math.PI), lon: VICTIM_AT.lon });

const PROV = Provisioning.parse({
  runId: 'gaps',
  clock: { startVirtual: T0, startReal: 0, speed: 1 },
  // Long, so communication_loss stays out of the way of these tests.
  offlineTimeoutMs: 24 * 60 * MIN,
  devices: [{ deviceId: 'd1', type: 'psem' }, { deviceId: 'perp', type: 'bar_perpetrator' }, { deviceId: 'vict', type: 'bar_victim' }],
  zones: [{ zoneId: 'z1', kind: 'exclusion', deviceId: 'd1', polygon: ZONE }],
  barPairs: [{ pairId: 'pair-1', perpetratorId: 'perp', victimId: 'vict', alertKm: 1 }],
});

/** Device time: seq × 1 s after T0 unless given. */
const pos = (device: string, seq: number, at: { lat: number; lon: number }, time = T0 + seq * 1000): UplinkRecord =>
  ({ device, seq, time, battery: 90, type: 'position', accuracy: 5, ...at });
/** Seqs from..to, all outside the zone except those listed in `inside`. */
const run = (from: number, to: number, inside: number[] = []): UplinkRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => pos('d1', from + i, inside.includes(from + i) ? IN : OUT));

const tempFile = (): string => tempDbFile('vigil-gaps-');

/** An engine on `file` (provisioned unless reopened), its real clock set by `at` (speed 1: virtual = T0 + real). */
function open(file = ':memory:', provision = true) {
  const store = new Store(file);
  const clock = { real: 0 };
  const commits: CommitResult[] = [];
  const logs: string[] = [];
  const engine = new Engine(store, { afterCommit: (r) => commits.push(r), log: (l) => logs.push(l), realNow: () => clock.real, gapTimeoutMs: GAP });
  onCleanup(() => store.close());
  if (provision) engine.provision(PROV);
  const at = (realMs: number): void => {
    clock.real = realMs;
  };
  const put = (...records: UplinkRecord[]): void => {
    engine.accept(records[0]!.device, records);
    engine.flush();
  };
  const sweep = (realMs: number): void => {
    at(realMs);
    engine.sweep();
  };
  const ack = (device = 'd1') => commits.filter((c) => c.acks.has(device)).at(-1)?.acks.get(device);
  const alarms = () => store.alarmsAfter(0, 10_000).map((a) => [a.deviceId, a.kind, a.seq, a.raisedAt - T0]);
  return { store, engine, at, put, sweep, ack, alarms, logs, close: () => store.close() };
}

describe('gap timeout', () => {
  it('1–10 and 21–40 stored, 11–20 never come: 21–40 are evaluated after gapTimeoutMs, not before; the ack stays at 10', () => {
    const e = open();
    e.put(...run(1, 10));
    e.at(MIN);
    e.put(...run(21, 40, [25]));
    expect(e.ack()).toBe(10);
    expect(e.alarms()).toEqual([]);

    e.sweep(MIN + GAP - 1);
    expect(e.alarms()).toEqual([]);
    expect(e.engine.stats.gapsAbandoned).toBe(0);

    // gapTimeoutMs after seq 21 was stored: the rules go on at 21; the entry at 25 is raised now.
    e.sweep(MIN + GAP);
    expect(e.alarms()).toEqual([['d1', 'exclusion_zone_entry', 25, MIN + GAP]]);
    expect(e.engine.stats).toMatchObject({ gapsAbandoned: 1, seqsAbandoned: 10 });
    expect(e.logs.some((l) => l.includes('d1: seq 11–20 missing for 600000 virtual ms: gap abandoned, rules go on at seq 21 (ack stays at 10)'))).toBe(true);

    // The device keeps talking: evaluated at once, acked at 10 still (the gap is not stored).
    e.put(pos('d1', 41, IN));
    expect(e.alarms().map((a) => a[2])).toEqual([25, 41]);
    expect(e.ack()).toBe(10);
    expect(e.engine.summary().devices.d1).toEqual({ contiguousSeq: 10, maxSeq: 41, stored: 31, gaps: [[11, 20]] });
  });

  it('a record of an abandoned seq arriving later is stored, not evaluated; the missing rest moves the ack, never the rules', () => {
    const e = open();
    e.put(...run(1, 10));
    e.put(...run(21, 40));
    e.sweep(GAP);
    expect(e.engine.stats.gapsAbandoned).toBe(1);

    // 15 was an entry into the zone: stored (summary, completeness) but the rules never go back.
    e.at(GAP + MIN);
    e.put(pos('d1', 15, IN));
    expect(e.alarms()).toEqual([]);
    expect(e.engine.stats.lateRecords).toBe(1);
    expect(e.ack()).toBe(10);
    expect(e.engine.summary().devices.d1).toEqual({ contiguousSeq: 10, maxSeq: 40, stored: 31, gaps: [[11, 14], [16, 20]] });
    // A resend of it is a duplicate.
    e.put(pos('d1', 15, IN));
    expect(e.engine.stats).toMatchObject({ lateRecords: 1, duplicates: 1 });

    // The rest of the gap arrives: the ack covers 1..40 now (all stored); nothing is evaluated again.
    e.put(...run(11, 14, [11, 12]), ...run(16, 20, [16]));
    expect(e.ack()).toBe(40);
    expect(e.alarms()).toEqual([]);
    expect(e.engine.summary().devices.d1).toEqual({ contiguousSeq: 40, maxSeq: 40, stored: 40, gaps: [] });
    // Zone state is that of seq 40 (outside): 41 inside is a new entry.
    e.put(pos('d1', 41, IN));
    expect(e.alarms().map((a) => a.slice(1, 3))).toEqual([['exclusion_zone_entry', 41]]);
    expect(e.ack()).toBe(41);
  });

  it('a gap filled in time is evaluated as before: nothing is abandoned', () => {
    const e = open();
    e.put(...run(1, 10));
    e.put(...run(21, 40, [25]));
    e.sweep(GAP - 1);
    e.put(...run(11, 20, [15]));
    expect(e.alarms().map((a) => a[2])).toEqual([15, 25]);
    expect(e.ack()).toBe(40);
    e.sweep(3 * GAP);
    expect(e.engine.stats.gapsAbandoned).toBe(0);
  });

  it('the age of a gap runs from the first record above it that was stored, also when an earlier gap held evaluation', () => {
    const e = open();
    e.put(...run(1, 10));
    // At 0: 12–20 and 22–30 (21 and 11 missing); the entry at 25.
    e.put(...run(12, 20), ...run(22, 30, [25]));
    // 11 comes at 5 min: 11–20 are evaluated, then 21 holds; records above 21 were stored at 0.
    e.at(5 * MIN);
    e.put(pos('d1', 11, OUT));
    expect(e.ack()).toBe(20);
    expect(e.alarms()).toEqual([]);
    e.sweep(GAP - 1);
    expect(e.alarms()).toEqual([]);
    e.sweep(GAP);
    expect(e.alarms()).toEqual([['d1', 'exclusion_zone_entry', 25, GAP]]);
    expect(e.engine.stats.seqsAbandoned).toBe(1);
  });

  it('abandons in the commit too when the device keeps talking, and several old gaps at once', () => {
    const e = open();
    e.put(...run(1, 10));
    e.put(...run(12, 20, [15]), ...run(22, 30, [25]), ...run(32, 33));
    // No sweep: the next commit of the device finds the gaps old and moves past all three.
    e.at(GAP);
    e.put(pos('d1', 34, IN));
    expect(e.alarms().map((a) => a.slice(1))).toEqual([['exclusion_zone_entry', 15, GAP], ['exclusion_zone_entry', 25, GAP], ['exclusion_zone_entry', 34, GAP]]);
    expect(e.engine.stats).toMatchObject({ gapsAbandoned: 3, seqsAbandoned: 3 });
    expect(e.ack()).toBe(10);
  });

  it('a restart in between keeps the gap age, the abandonment, the ack and the late records apart', () => {
    const file = tempFile();
    const a = open(file);
    a.put(...run(1, 10));
    a.at(MIN);
    a.put(...run(21, 40, [25]));
    a.close();

    // Restarted before the timeout: nothing evaluated yet, and the age still runs from 1 min.
    const b = open(file, false);
    b.sweep(MIN + GAP - 1);
    expect(b.alarms()).toEqual([]);
    expect(b.engine.summary().devices.d1).toEqual({ contiguousSeq: 10, maxSeq: 40, stored: 30, gaps: [[11, 20]] });
    b.close();

    const c = open(file, false);
    c.sweep(MIN + GAP);
    expect(c.alarms()).toEqual([['d1', 'exclusion_zone_entry', 25, MIN + GAP]]);
    c.close();

    // After a restart the gap stays abandoned: 15 is late, 41 is evaluated, the ack stays at 10.
    const d = open(file, false);
    d.at(2 * GAP);
    d.put(pos('d1', 15, IN));
    d.put(pos('d1', 41, IN));
    expect(d.alarms().map((x) => x[2])).toEqual([25, 41]);
    expect(d.ack()).toBe(10);
    expect(d.engine.stats.lateRecords).toBe(1);
    d.close();

    const e = open(file, false);
    e.put(pos('d1', 16, IN));
    expect(e.engine.stats.lateRecords).toBe(1);
    expect(e.alarms().map((x) => x[2])).toEqual([25, 41]);
    expect(e.engine.summary().devices.d1).toEqual({ contiguousSeq: 10, maxSeq: 41, stored: 33, gaps: [[11, 14], [17, 20]] });
  });

  it('resends are refused across restarts, above a gap and of a late record alike: each record is stored once, evaluated once', () => {
    const file = tempFile();
    const a = open(file);
    a.put(...run(1, 10));
    a.put(...run(21, 30, [25]));
    a.put(...run(21, 30, [25]));
    expect(a.engine.stats.duplicates).toBe(10);
    a.close();

    // Refused from the stored runs above the ack, reloaded from the store.
    const b = open(file, false);
    b.put(...run(21, 30, [25]));
    expect(b.engine.stats.duplicates).toBe(10);
    b.sweep(GAP);
    b.put(pos('d1', 15, IN));
    expect(b.engine.stats.lateRecords).toBe(1);
    b.close();

    const c = open(file, false);
    c.put(pos('d1', 15, IN), ...run(21, 30, [25]), pos('d1', 12, IN));
    expect(c.engine.stats.duplicates).toBe(11);
    expect(c.engine.stats.lateRecords).toBe(1);
    expect(c.alarms().map((x) => x[2])).toEqual([25]);
    expect(c.engine.summary().devices.d1).toEqual({ contiguousSeq: 10, maxSeq: 30, stored: 22, gaps: [[11, 11], [13, 14], [16, 20]] });
    const db = new Database(file, { readonly: true });
    onCleanup(() => db.close());
    expect(db.prepare('SELECT count(*) FROM records').pluck().get()).toBe(22);
    // Nothing waits once the gap is abandoned: the evaluated records left the waiting table.
    expect(db.prepare('SELECT count(*) FROM waiting').pluck().get()).toBe(0);
  });

  it('BAR: the watermark moves past an abandoned gap; a late record of the gap never joins the pair stream, across a restart', () => {
    const file = tempFile();
    const a = open(file);
    // The victim stands still; the perpetrator is far at seq 1, 2 is lost, 3 and 4 are far too.
    a.put(pos('vict', 1, VICTIM_AT, T0 + 1000));
    a.put(pos('perp', 1, north(50_000), T0 + 1000));
    a.put(pos('perp', 3, north(40_000), T0 + 3000), pos('perp', 4, north(30_000), T0 + 4000));
    a.sweep(GAP);
    // Abandoned: perp 3 and 4 are evaluated and wait in the pair's queue above the victim's watermark (1 s).
    expect(a.engine.stats.gapsAbandoned).toBe(1);
    // perp 2 arrives late, right next to the victim: stored, never evaluated, not in the stream.
    a.put(pos('perp', 2, north(100), T0 + 2000));
    a.close();

    const b = open(file, false);
    b.at(GAP + MIN);
    // The victim moves the watermark to 5 s: the stream takes perp 3 and 4 (far), not the late 2.
    b.put(pos('vict', 2, VICTIM_AT, T0 + 5000));
    expect(b.alarms()).toEqual([]);
    // A real approach after it still raises.
    b.put(pos('perp', 5, north(500), T0 + 6000));
    b.put(pos('vict', 3, VICTIM_AT, T0 + 7000));
    expect(b.alarms()).toEqual([['perp', 'bar_alert', 5, GAP + MIN]]);
  });

  it('before the timeout a unit stuck at a gap holds its pair; after it, the pair is evaluated', () => {
    const e = open();
    e.put(pos('vict', 1, VICTIM_AT, T0 + 1000), pos('vict', 2, VICTIM_AT, T0 + 9000));
    e.put(pos('perp', 1, north(50_000), T0 + 1000));
    e.put(pos('perp', 3, north(500), T0 + 3000));
    e.sweep(GAP - 1);
    expect(e.alarms()).toEqual([]);
    e.sweep(GAP);
    expect(e.alarms()).toEqual([['perp', 'bar_alert', 3, GAP]]);
    expect(e.ack('perp')).toBe(1);
  });
});

describe('gap timeout setting', () => {
  it('defaults to 10 virtual minutes; VIGIL_GAP_TIMEOUT_MS sets it; anything but a whole number > 0 is refused, naming the variable', () => {
    expect(DEFAULT_GAP_TIMEOUT_MS).toBe(1_800_000);
    expect(gapTimeoutFromEnv({})).toBe(1_800_000);
    expect(gapTimeoutFromEnv({ [GAP_TIMEOUT_ENV]: '' })).toBe(1_800_000);
    expect(gapTimeoutFromEnv({ [GAP_TIMEOUT_ENV]: '120000' })).toBe(120_000);
    for (const bad of ['0', '-5', '1e3', '10 min', '1.5']) {
      expect(() => gapTimeoutFromEnv({ [GAP_TIMEOUT_ENV]: bad })).toThrow(/VIGIL_GAP_TIMEOUT_MS=.*whole number of virtual milliseconds > 0/);
    }
    const store = new Store(':memory:');
    onCleanup(() => store.close());
    expect(() => new Engine(store, { afterCommit: () => {}, log: () => {}, gapTimeoutMs: 0 })).toThrow(/gapTimeoutMs 0/);
    expect(new Engine(store, { afterCommit: () => {}, log: () => {} }).gapTimeoutMs).toBe(DEFAULT_GAP_TIMEOUT_MS);
  });
});

describe('the gap timeout never runs shorter than 15 s of real time', () => {
  it('at speed 240 a 10-minute gap timeout waits 15 real seconds (60 virtual minutes): resends travel in real time', () => {
    const store = new Store(':memory:');
    onCleanup(() => store.close());
    const clock = { real: 0 };
    const engine = new Engine(store, { afterCommit: () => {}, log: () => {}, realNow: () => clock.real, gapTimeoutMs: 10 * MIN });
    engine.provision({ ...PROV, runId: 'fast', clock: { startVirtual: T0, startReal: 0, speed: 240 } });
    // 1–10 and 21–25 stored at real 0; 25 is inside the zone.
    engine.accept('d1', [...run(1, 10), ...run(21, 25, [25])]);
    engine.flush();
    const entries = () => store.alarmsAfter(0, 10_000).filter((a) => a.kind === 'exclusion_zone_entry').length;
    // 10 virtual minutes on (2.5 s real): the floor holds the gap.
    clock.real = 2_600;
    engine.sweep();
    expect(entries()).toBe(0);
    // 15 s real (60 virtual minutes): abandoned, the entry at 25 is raised.
    clock.real = 15_100;
    engine.sweep();
    expect(entries()).toBe(1);
  });
});
