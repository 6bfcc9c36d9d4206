/**
 * The alarm-id-overflow fault (protocol/pipeline-admin.ts; DOMAIN.md "Other outages": BI Inc. 2010):
 * while it is on, records are stored, acked and evaluated, but every alarm the rules raise is lost —
 * communication_loss and mass alarms too — and never raised later; the feed's cursors stay gapless.
 */
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDbFile } from './test-support.ts';
import { Provisioning } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { Engine, type CommitResult } from './engine.ts';
import { Store } from './store.ts';

const T0 = Date.parse('2021-10-25T12:00:00Z');
const MIN = 60_000;
const TIMEOUT = 10 * MIN;
const ZONE: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];
const IN = { lat: 48.05, lon: 2.05 };
const OUT = { lat: 47.5, lon: 2.05 };
const KIND = 'alarm-id-overflow';

/** K = max(1, ⌈0.5 × 2⌉) = 1: one silent device is a mass outage of its operator. */
const prov = (runId = 'fault') => Provisioning.parse({
  runId,
  clock: { startVirtual: T0, startReal: 0, speed: 1 },
  offlineTimeoutMs: TIMEOUT,
  massCommunicationLoss: { share: 0.5, minDevices: 1 },
  devices: [{ deviceId: 'd1', type: 'psem' }, { deviceId: 'd2', type: 'psem' }],
  zones: [{ zoneId: 'z1', kind: 'exclusion', deviceId: 'd1', polygon: ZONE }],
});

const pos = (device: string, seq: number, at: { lat: number; lon: number }, time: number): UplinkRecord =>
  ({ device, seq, time, battery: 90, type: 'position', accuracy: 5, ...at });

const tempFile = (): string => tempDbFile('vigil-fault-');

function open(file = ':memory:', provision = true) {
  const store = new Store(file);
  const clock = { real: 0 };
  const commits: CommitResult[] = [];
  const logs: string[] = [];
  const engine = new Engine(store, { afterCommit: (r) => commits.push(r), log: (l) => logs.push(l), realNow: () => clock.real });
  onCleanup(() => store.close());
  if (provision) engine.provision(prov());
  const at = (realMs: number): void => {
    clock.real = realMs;
  };
  /** d1 at `where`, its next seq, device time = virtual now (a live device). */
  const say = (where: { lat: number; lon: number }, device = 'd1'): void => {
    const seq = engine.summary().devices[device]!.maxSeq + 1;
    engine.accept(device, [pos(device, seq, where, T0 + clock.real)]);
    engine.flush();
  };
  const sweep = (realMs: number): void => {
    at(realMs);
    engine.sweep();
  };
  const alarms = () => store.alarmsAfter(0, 10_000).map((a) => [a.cursor, a.deviceId, a.kind, a.seq]);
  const ack = (device = 'd1') => commits.filter((c) => c.acks.has(device)).at(-1)?.acks.get(device);
  return { store, engine, at, say, sweep, alarms, ack, commits, logs, close: () => store.close() };
}

describe('alarm-id-overflow', () => {
  it('alarms raised while on are lost (state moves on); after it, new alarms are raised with the next cursor', () => {
    const e = open();
    e.say(IN); // seq 1: entry, raised (cursor 1)
    e.say(OUT); // 2
    expect(e.engine.setFault(KIND, true)).toEqual({ ok: true, kind: KIND, active: true, changed: true });
    expect(e.engine.setFault(KIND, true)).toEqual({ ok: true, kind: KIND, active: true, changed: false });
    e.say(IN); // 3: entry, lost
    e.say(OUT); // 4
    e.say(IN); // 5: entry, lost
    // Records are stored and acked as ever; the feed is not woken.
    expect(e.ack()).toBe(5);
    expect(e.engine.summary().devices.d1).toEqual({ contiguousSeq: 5, maxSeq: 5, stored: 5, gaps: [] });
    expect(e.commits.slice(-3).map((c) => c.alarms)).toEqual([0, 0, 0]);
    expect(e.engine.stats).toMatchObject({ alarms: 1, alarmsLost: 2 });

    expect(e.engine.setFault(KIND, false)).toMatchObject({ active: false, changed: true });
    // Still inside (state moved on at 5): nothing; the lost alarms are never raised.
    e.say(IN); // 6
    expect(e.alarms()).toEqual([[1, 'd1', 'exclusion_zone_entry', 1]]);
    e.say(OUT); // 7
    e.say(IN); // 8: raised, cursor 2: no gap in the feed
    expect(e.alarms()).toEqual([[1, 'd1', 'exclusion_zone_entry', 1], [2, 'd1', 'exclusion_zone_entry', 8]]);
    expect(e.engine.stats).toMatchObject({ alarms: 2, alarmsLost: 2 });
    expect(e.logs.filter((l) => l.startsWith(`fault ${KIND}`))).toEqual([
      `fault ${KIND} on: every alarm raised from now on is lost (records are still stored, acked and evaluated)`,
      `fault ${KIND} off: alarms are raised again; 2 lost while it was on (never raised)`,
    ]);
  });

  it('communication_loss and mass alarms are lost too, and not raised again after it ends or after a restart', () => {
    const file = tempFile();
    const a = open(file);
    a.say(OUT, 'd1');
    a.say(OUT, 'd2');
    a.engine.setFault(KIND, true);
    // d1 and d2 go silent: two communication_loss and op-1's mass loss, all lost.
    a.sweep(TIMEOUT);
    expect(a.alarms()).toEqual([]);
    expect(a.engine.stats.alarmsLost).toBe(3);
    a.close();

    // The fault survives a restart.
    const b = open(file, false);
    expect(b.engine.alarmIdOverflowOn).toBe(true);
    b.engine.setFault(KIND, false);
    b.close();

    // After the fault and another restart: the silences and the outage are still open (no new alarm).
    const c = open(file, false);
    expect(c.engine.alarmIdOverflowOn).toBe(false);
    c.sweep(3 * TIMEOUT);
    expect(c.alarms()).toEqual([]);
    // d1 talks: its loss re-arms; S = 1 > ⌊1/2⌋, nothing. d2 talks: S = 0, the recovery of outage 1 is raised.
    c.at(3 * TIMEOUT + MIN);
    c.say(OUT, 'd1');
    c.say(OUT, 'd2');
    expect(c.alarms()).toEqual([[1, 'operator-1', 'mass_communication_recovery', 1]]);
    // A new silence raises again: communication_loss for both, then outage 2.
    c.sweep(4 * TIMEOUT + MIN);
    expect(c.alarms().slice(1).map((x) => x.slice(1))).toEqual([
      ['d1', 'communication_loss', 2], ['d2', 'communication_loss', 2], ['operator-1', 'mass_communication_loss', 2],
    ]);
    expect(c.alarms().map((x) => x[0])).toEqual([1, 2, 3, 4]);
  });

  it('a new run clears the fault; provisioning the same run again keeps it', () => {
    const file = tempFile();
    const e = open(file);
    e.engine.setFault(KIND, true);
    e.engine.provision(prov());
    expect(e.engine.alarmIdOverflowOn).toBe(true);
    e.engine.provision(prov('fault-2'));
    expect(e.engine.alarmIdOverflowOn).toBe(false);
    expect(e.logs).toContain(`fault ${KIND} off: a new run (fault-2) starts without it`);
    e.close();
    const f = open(file, false);
    expect(f.engine.alarmIdOverflowOn).toBe(false);
    f.say(IN);
    expect(f.alarms()).toEqual([[1, 'd1', 'exclusion_zone_entry', 1]]);
  });
});
