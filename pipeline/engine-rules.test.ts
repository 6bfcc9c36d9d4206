/**
 * Every rule of docs/RULES.md through the engine: records in, alarms out of the store, with gaps,
 * late arrivals, silences and restarts (the store file reopened, as after a kill -9).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDbFile } from './test-support.ts';
import { DEVICE_EVENTS } from '../protocol/alarms.ts';
import { Provisioning } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { Engine } from './engine.ts';
import { EARTH_RADIUS_M } from './geometry.ts';
import { Store } from './store.ts';

const T0 = Date.parse('2021-10-25T12:00:00Z'); // Monday, 14:00 in Paris
const MIN = 60_000;
const TIMEOUT = 600_000;
const ZONE: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];
const OUT = { lat: 48.2, lon: 2.05 };
const VICTIM_AT = { lat: 48.85, lon: 2.35 };
const north = (m: number) => ({ lat: VICTIM_AT.lat + (m / EARTH_RADIUS_M) * (180 / Math.PI), lon: VICTIM_AT.lon });

const PROV = Provisioning.parse({
  runId: 'rules',
  clock: { startVirtual: T0, startReal: 0, speed: 1 },
  offlineTimeoutMs: TIMEOUT,
  devices: [
    { deviceId: 'gps', type: 'psem' },
    { deviceId: 'home', type: 'pse', home: { lat: 48.85, lon: 2.35 } },
    { deviceId: 'perp', type: 'bar_perpetrator' },
    { deviceId: 'vict', type: 'bar_victim' },
    { deviceId: 'vict2', type: 'bar_victim' },
  ],
  zones: [{ zoneId: 'stay', kind: 'inclusion', deviceId: 'gps', polygon: ZONE }],
  curfews: [{ deviceId: 'home', windows: [{ from: '20:00', to: '07:00', crossesMidnight: true }] }],
  barPairs: [
    { pairId: 'pair-1', perpetratorId: 'perp', victimId: 'vict', alertKm: 1 },
    { pairId: 'pair-2', perpetratorId: 'perp', victimId: 'vict2', alertKm: 1 },
  ],
});

const base = (device: string, seq: number, time: number, battery = 90) => ({ device, seq, time, battery });
const pos = (device: string, seq: number, time: number, at: { lat: number; lon: number }, battery = 90): UplinkRecord =>
  ({ ...base(device, seq, time, battery), type: 'position', accuracy: 5, ...at });
const hb = (device: string, seq: number, time: number, battery = 90): UplinkRecord => ({ ...base(device, seq, time, battery), type: 'heartbeat' });
const ev = (device: string, seq: number, time: number, event: string): UplinkRecord => ({ ...base(device, seq, time), type: 'event', event });

const tempFile = (): string => tempDbFile('vigil-rules-');

/** The BAR positions the store keeps for a restart (pair_queue) as 'pair side:seq', read beside the open store. */
function queued(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], string>("SELECT pair_id || ' ' || side || ':' || seq FROM pair_queue ORDER BY pair_id, side, seq").pluck().all();
  } finally {
    db.close();
  }
}

/** An engine on `file`, provisioned (once per file), with a settable real clock. */
function open(file = ':memory:', provision = true) {
  const store = new Store(file);
  const clock = { real: 0 };
  const engine = new Engine(store, { afterCommit: () => {}, log: () => {}, realNow: () => clock.real });
  onCleanup(() => store.close());
  if (provision) engine.provision(PROV);
  const put = (...records: UplinkRecord[]): void => {
    for (const r of records) engine.accept(r.device, [r]);
    engine.flush();
  };
  const alarms = () => store.alarmsAfter(0, 10_000).map((a) => [a.deviceId, a.kind, a.seq, a.deviceTime, a.zoneId ?? a.pairId ?? null]);
  return { store, engine, clock, put, alarms, close: () => store.close() };
}

describe('event rules', () => {
  it('each alarm event raises its kind once, with its seq and device time; the others raise nothing', () => {
    const e = open();
    e.put(...DEVICE_EVENTS.map((name, i) => ev('home', i + 1, T0 + i * MIN, name)));
    const seqOf = (name: string) => DEVICE_EVENTS.indexOf(name as (typeof DEVICE_EVENTS)[number]) + 1;
    const expected = [
      ['strap_tamper', 'strap_tamper'], ['gps_lost', 'gps_loss'], ['unit_tamper', 'home_unit_tamper'],
      ['unit_moved', 'home_unit_moved'], ['mains_lost', 'mains_power_loss'], ['sos', 'victim_sos'],
    ].map(([name, kind]) => ['home', kind, seqOf(name!), T0 + (seqOf(name!) - 1) * MIN, null]);
    expect(e.alarms()).toEqual(expected);
    // The same event again (higher seqs) raises again: one alarm per event.
    const n = DEVICE_EVENTS.length;
    e.put(ev('home', n + 1, T0 + 100 * MIN, 'strap_tamper'), ev('home', n + 2, T0 + 101 * MIN, 'strap_tamper'));
    expect(e.alarms().slice(expected.length).map((a) => [a[1], a[2]])).toEqual([['strap_tamper', n + 1], ['strap_tamper', n + 2]]);
  });

  it('a tamper made while offline raises when it arrives, after the gap before it fills', () => {
    const e = open();
    e.put(pos('gps', 1, T0, { lat: 48.05, lon: 2.05 }), hb('gps', 2, T0 + MIN), hb('gps', 3, T0 + 2 * MIN));
    e.clock.real = 2 * MIN + TIMEOUT;
    e.engine.sweep();
    expect(e.alarms()).toEqual([['gps', 'communication_loss', 3, T0 + 2 * MIN, null]]);
    // Back online 30 min later: the newest records arrive first, the offline ones (tamper at +5 min) last.
    e.clock.real = 40 * MIN;
    e.put(hb('gps', 6, T0 + 35 * MIN), hb('gps', 7, T0 + 36 * MIN));
    expect(e.alarms()).toHaveLength(1);
    e.put(hb('gps', 4, T0 + 4 * MIN), ev('gps', 5, T0 + 5 * MIN, 'strap_tamper'));
    expect(e.alarms()).toEqual([
      ['gps', 'communication_loss', 3, T0 + 2 * MIN, null],
      ['gps', 'strap_tamper', 5, T0 + 5 * MIN, null],
    ]);
    expect(e.store.alarmsAfter(1, 1)[0]?.raisedAt).toBe(T0 + 40 * MIN);
  });
});

describe('low_battery and silence', () => {
  it('a battery dying mid-violation: the exit, low_battery once, then communication_loss', () => {
    const e = open();
    const levels = [40, 20, 15, 12, 8, 3];
    e.put(...levels.map((b, i) => pos('gps', i + 1, T0 + i * MIN, OUT, b)));
    e.clock.real = 5 * MIN + TIMEOUT - 1;
    e.engine.sweep();
    e.clock.real = 5 * MIN + TIMEOUT;
    e.engine.sweep();
    e.clock.real = 5 * MIN + 10 * TIMEOUT;
    e.engine.sweep();
    expect(e.alarms()).toEqual([
      ['gps', 'inclusion_zone_exit', 1, T0, 'stay'],
      ['gps', 'low_battery', 3, T0 + 2 * MIN, null],
      ['gps', 'communication_loss', 6, T0 + 5 * MIN, null],
    ]);
  });

  it('any record type carries the battery level; hovering at 15 raises once, charging to 30 re-arms', () => {
    const e = open();
    const levels = [16, 15, 16, 15, 14, 29, 15, 30, 15];
    e.put(...levels.map((b, i) => (i % 2 ? hb('home', i + 1, T0 + i * MIN, b) : pos('home', i + 1, T0 + i * MIN, VICTIM_AT, b))));
    expect(e.alarms().map((a) => [a[1], a[2]])).toEqual([['low_battery', 2], ['low_battery', 9]]);
  });
});

describe('communication_loss re-arm through the engine', () => {
  /** gps talks every minute of 0..2 min, then is cut off for 5 h; its outbox holds a record a minute of the outage. */
  const OUTAGE = 300 * MIN;
  const backlog = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => hb('gps', from + i, T0 + (from + i - 1) * MIN));

  it('a backlog draining in batches after an outage raises no second alarm, across a restart; a new silence does', () => {
    const file = tempFile();
    const a = open(file);
    a.put(...backlog(1, 3));
    a.clock.real = 2 * MIN + TIMEOUT;
    a.engine.sweep();
    expect(a.alarms()).toEqual([['gps', 'communication_loss', 3, T0 + 2 * MIN, null]]);
    // Back at 5 h: the outbox drains oldest first, 60 records every 2 minutes (seq 4..301), within the
    // timeout of the re-arm (a drain longer than that would raise at R + timeout: RULES.md).
    let next = 4;
    const drainBatch = (e: ReturnType<typeof open>) => {
      e.engine.sweep();
      const last = Math.min(next + 59, 301);
      e.put(...backlog(next, last));
      next = last + 1;
      e.engine.sweep();
      e.clock.real += 2 * MIN;
    };
    a.clock.real = OUTAGE;
    for (let k = 0; k < 3; k++) drainBatch(a);
    a.close(); // the re-arm time R survives a kill -9

    const b = open(file, false);
    b.clock.real = OUTAGE + 6 * MIN;
    while (next <= 301) drainBatch(b);
    expect(b.alarms()).toHaveLength(1);
    // The device's newest record is from the moment it came back (seq 301 at 5 h); then it goes silent.
    b.clock.real = OUTAGE + TIMEOUT - 1;
    b.engine.sweep();
    expect(b.alarms()).toHaveLength(1);
    b.clock.real = OUTAGE + TIMEOUT;
    b.engine.sweep();
    expect(b.alarms()).toEqual([
      ['gps', 'communication_loss', 3, T0 + 2 * MIN, null],
      ['gps', 'communication_loss', 301, T0 + OUTAGE, null],
    ]);
  });

  it('a drain whose newest record is old raises at R + timeout, naming the highest seq received', () => {
    const e = open();
    e.put(...backlog(1, 3));
    e.clock.real = 2 * MIN + TIMEOUT;
    e.engine.sweep();
    e.clock.real = OUTAGE;
    e.put(...backlog(4, 10)); // device times 3..9 min: L + timeout is long past
    e.clock.real = OUTAGE + TIMEOUT - 1;
    e.engine.sweep();
    expect(e.alarms()).toHaveLength(1);
    e.clock.real = OUTAGE + TIMEOUT;
    e.engine.sweep();
    expect(e.alarms().at(-1)).toEqual(['gps', 'communication_loss', 10, T0 + 9 * MIN, null]);
  });
});

describe('curfew through the engine', () => {
  it('presence and the open curfew alarm survive restarts', () => {
    const file = tempFile();
    const evening = Date.parse('2021-10-25T17:30:00Z'); // 19:30 CEST
    const a = open(file);
    a.put(ev('home', 1, evening, 'rf_absent'), ev('home', 2, evening + 10 * MIN, 'curfew_start'));
    a.close();
    const b = open(file, false);
    b.put(hb('home', 3, evening + 30 * MIN), hb('home', 4, evening + 35 * MIN)); // 20:00: late
    b.close();
    const c = open(file, false);
    c.put(hb('home', 5, evening + 40 * MIN), ev('home', 6, evening + 50 * MIN, 'rf_present'), ev('home', 7, evening + 90 * MIN, 'rf_absent'));
    expect(c.alarms()).toEqual([
      ['home', 'late_return', 3, evening + 30 * MIN, null],
      ['home', 'curfew_absence', 7, evening + 90 * MIN, null],
    ]);
  });

  it('inclusion violation and low battery survive a restart', () => {
    const file = tempFile();
    const a = open(file);
    a.put(pos('gps', 1, T0, OUT, 10));
    a.close();
    const b = open(file, false);
    b.put(pos('gps', 2, T0 + MIN, OUT, 9));
    // Both raised by seq 1 only: after the restart seq 2 is still violating and still low.
    expect(b.alarms().map((x) => [x[1], x[2]])).toEqual([['low_battery', 1], ['inclusion_zone_exit', 1]]);
  });
});

describe('BAR pairs through the engine', () => {
  // perpetrator: approaches (pre-alert at 2, alert at 4), backs off to 1.5 km (silent), comes back
  // (alert at 6), leaves (clear at 7); the victim then walks towards him (alert by the victim's 4).
  const S = 1000;
  const perp = [
    pos('perp', 1, T0, north(5000)), pos('perp', 2, T0 + 60 * S, north(1800)), hb('perp', 3, T0 + 90 * S),
    pos('perp', 4, T0 + 120 * S, north(900)), pos('perp', 5, T0 + 180 * S, north(1500)), pos('perp', 6, T0 + 240 * S, north(800)),
    pos('perp', 7, T0 + 300 * S, north(3000)), hb('perp', 8, T0 + 360 * S),
  ];
  const vict = [
    pos('vict', 1, T0, VICTIM_AT), pos('vict', 2, T0 + 90 * S, VICTIM_AT), pos('vict', 3, T0 + 240 * S, VICTIM_AT),
    pos('vict', 4, T0 + 330 * S, north(2500)), hb('vict', 5, T0 + 400 * S),
  ];
  const expected = [
    ['perp', 'bar_pre_alert', 2, T0 + 60 * S, 'pair-1'],
    ['perp', 'bar_alert', 4, T0 + 120 * S, 'pair-1'],
    ['perp', 'bar_alert', 6, T0 + 240 * S, 'pair-1'],
    ['vict', 'bar_alert', 4, T0 + 330 * S, 'pair-1'],
  ];
  const sorted = (xs: unknown[][]) => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  it('in time order, one record per commit: each alarm waits for the watermark', () => {
    const e = open();
    const merged = [...perp, ...vict].sort((a, b) => a.time - b.time || (a.device === 'perp' ? -1 : 1));
    for (const r of merged) {
      e.put(r);
      if (r === vict[3]) expect(e.alarms()).toEqual(expected.slice(0, 3)); // the victim's 330 s > the perpetrator's 300 s
    }
    expect(e.alarms()).toEqual(expected);
  });

  it('the same records in other cross-device orders, with gaps and restarts, give the same alarms', () => {
    // Every victim record first, then the perpetrator's, newest first (a gap filled at the end).
    const b = open();
    b.put(...vict);
    expect(b.alarms()).toEqual([]); // the perpetrator's watermark is not there yet
    b.put(...perp.slice(4));
    expect(b.alarms()).toEqual([]); // above a gap: not contiguous
    b.put(...perp.slice(0, 4));
    expect(sorted(b.alarms())).toEqual(sorted(expected));

    // The perpetrator's first, then the victim's in two halves, with the store reopened in between.
    const file = tempFile();
    const c1 = open(file);
    c1.put(...perp);
    c1.put(...vict.slice(0, 2));
    const before = c1.alarms();
    c1.close();
    const c2 = open(file, false);
    c2.put(...vict.slice(2));
    expect(sorted([...before, ...c2.alarms().slice(before.length)])).toEqual(sorted(expected));
    expect(sorted(c2.alarms())).toEqual(sorted(expected));
  });

  it('state and queued positions survive a restart mid-pair', () => {
    const file = tempFile();
    const a = open(file);
    a.put(...perp.slice(0, 6)); // queued: no victim record yet
    a.put(vict[0]!); // watermark = the victim's 0 s: only the first positions of each
    expect(a.alarms()).toEqual([]);
    // What the restart reads back: the perpetrator's positions not yet in a stream (pair-2's victim is silent).
    const perpQueued = (pair: string, seqs: number[]) => seqs.map((q) => `${pair} 0:${q}`);
    expect(queued(file)).toEqual([...perpQueued('pair-1', [2, 4, 5, 6]), ...perpQueued('pair-2', [1, 2, 4, 5, 6])]);
    a.close();
    const b = open(file, false);
    b.put(...vict.slice(1), ...perp.slice(6));
    expect(b.alarms()).toEqual(expected);
    // pair-1's watermark (the perpetrator's 360 s) is past all its positions: none waits there.
    expect(queued(file)).toEqual(perpQueued('pair-2', [1, 2, 4, 5, 6, 7]));
  });

  it('one record can trigger the same kind in two pairs: identity includes the pair', () => {
    const e = open();
    e.put(pos('vict', 1, T0, VICTIM_AT), pos('vict2', 1, T0, VICTIM_AT), pos('perp', 1, T0 + S, north(500)),
      hb('vict', 2, T0 + 2 * S), hb('vict2', 2, T0 + 2 * S));
    expect(e.alarms()).toEqual([
      ['perp', 'bar_alert', 1, T0 + S, 'pair-1'],
      ['perp', 'bar_alert', 1, T0 + S, 'pair-2'],
    ]);
  });
});
