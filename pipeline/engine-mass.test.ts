/**
 * mass_communication_loss / mass_communication_recovery through the engine (docs/RULES.md): per
 * operator thresholds, hysteresis, outage ordinals, and restarts from the same store file mid-outage.
 */
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDbFile } from './test-support.ts';
import { FeedAlarm } from '../protocol/feed.ts';
import { Provisioning } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { Engine } from './engine.ts';
import { toFeedAlarm } from './feed.ts';
import { Store } from './store.ts';

const T0 = Date.parse('2021-10-25T14:00:00Z');
const MIN = 60_000;
const TIMEOUT = 600_000;

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
/** op-a: 20 devices, K = ⌈0.2 × 20⌉ = 4. op-b: 5 devices, K = minDevices = 3. op-c: 2 devices, K = 3 > N. */
const A = ids('a', 20);
const B = ids('b', 5);
const C = ids('c', 2);

const PROV = Provisioning.parse({
  runId: 'mass',
  clock: { startVirtual: T0, startReal: 0, speed: 1 },
  offlineTimeoutMs: TIMEOUT,
  massCommunicationLoss: { share: 0.2, minDevices: 3 },
  devices: [
    ...A.map((deviceId) => ({ deviceId, type: 'psem', operator: 'op-a' })),
    ...B.map((deviceId) => ({ deviceId, type: 'psem', operator: 'op-b' })),
    ...C.map((deviceId) => ({ deviceId, type: 'psem', operator: 'op-c' })),
  ],
});

const hb = (device: string, seq: number, time: number): UplinkRecord => ({ device, seq, time, battery: 90, type: 'heartbeat' });

const tempFile = (): string => tempDbFile('vigil-mass-');

/**
 * An engine on `file` (provisioned unless reopened). Devices talk through `say`, which sends each
 * device's next seq with device time = virtual now, as a live device does; `at` moves the clock.
 */
function open(file = ':memory:', provision = true) {
  const store = new Store(file);
  const clock = { real: 0 };
  const engine = new Engine(store, { afterCommit: () => {}, log: () => {}, realNow: () => clock.real });
  onCleanup(() => store.close());
  if (provision) engine.provision(PROV);
  const at = (realMs: number): void => {
    clock.real = realMs;
  };
  const say = (...devices: string[]): void => {
    for (const d of devices) {
      const seq = engine.summary().devices[d]!.maxSeq + 1;
      engine.accept(d, [hb(d, seq, T0 + clock.real)]);
    }
    engine.flush();
  };
  const sweep = (realMs: number): void => {
    at(realMs);
    engine.sweep();
  };
  const all = () => store.alarmsAfter(0, 100_000);
  const mass = (operator?: string) => all().filter((a) => a.kind.startsWith('mass_') && (operator === undefined || a.deviceId === operator)).map((a) => [a.deviceId, a.kind, a.seq, a.deviceTime - T0]);
  const losses = (prefix: string) => all().filter((a) => a.kind === 'communication_loss' && a.deviceId.startsWith(prefix)).length;
  return { store, engine, at, say, sweep, all, mass, losses, close: () => store.close() };
}

/** Every device talks at 0; the listed ones are kept alive every minute up to `until` (virtual ms after T0). */
function keepAlive(e: ReturnType<typeof open>, devices: string[], from: number, until: number): void {
  for (let t = from; t <= until; t += MIN) {
    e.at(t);
    e.say(...devices);
  }
}

describe('mass_communication_loss through the engine', () => {
  it('raises exactly when the K-th device of the operator goes silent, with deviceId = operator, seq 1, deviceTime = now', () => {
    const e = open();
    e.say(...A, ...B, ...C);
    // a0..a3 go silent at 0, 1, 2, 3 min (their last record); the rest stay alive.
    for (let i = 1; i <= 3; i++) {
      e.at(i * MIN);
      e.say(...A.slice(i));
    }
    keepAlive(e, [...A.slice(4), ...B, ...C], 4 * MIN, 30 * MIN);
    e.sweep(TIMEOUT + 2 * MIN + 30_000);
    expect(e.losses('a')).toBe(3);
    expect(e.mass()).toEqual([]);
    e.sweep(TIMEOUT + 3 * MIN);
    expect(e.losses('a')).toBe(4);
    expect(e.mass()).toEqual([['op-a', 'mass_communication_loss', 1, TIMEOUT + 3 * MIN]]);
    // The mass alarm follows the K-th communication_loss on the feed, and is a valid feed alarm without zone or pair.
    const last = e.all().at(-1)!;
    expect(e.all().at(-2)).toMatchObject({ deviceId: 'a3', kind: 'communication_loss' });
    expect(FeedAlarm.parse(toFeedAlarm(last))).toEqual({
      type: 'alarm', cursor: last.cursor, alarmId: last.alarmId, deviceId: 'op-a', kind: 'mass_communication_loss',
      seq: 1, deviceTime: T0 + TIMEOUT + 3 * MIN, raisedAt: T0 + TIMEOUT + 3 * MIN,
    });
    // More devices going silent: no second alarm for op-a (op-b, all silent now, raises its own).
    e.sweep(TIMEOUT + 30 * MIN + 1);
    expect(e.mass('op-a')).toHaveLength(1);
    expect(e.mass('op-b')).toEqual([['op-b', 'mass_communication_loss', 1, TIMEOUT + 30 * MIN + 1]]);
  });

  it('operators are independent; K from minDevices for a small fleet; K > N never fires', () => {
    const e = open();
    e.say(...A, ...B, ...C);
    // Everyone in op-c and two of op-b go silent with four of op-a.
    keepAlive(e, [...A.slice(4), ...B.slice(2)], MIN, 5 * MIN);
    e.sweep(5 * MIN + TIMEOUT - 1);
    expect(e.losses('c')).toBe(2);
    expect(e.losses('b')).toBe(2);
    expect(e.mass()).toEqual([['op-a', 'mass_communication_loss', 1, 5 * MIN + TIMEOUT - 1]]);
    // A third of op-b (K = 3, from minDevices; ⌈0.2 × 5⌉ would be 1): its own alarm, its own ordinal.
    e.at(5 * MIN + TIMEOUT);
    e.say(...A.slice(4), ...B.slice(3));
    e.sweep(5 * MIN + 2 * TIMEOUT);
    expect(e.mass()).toEqual([
      ['op-a', 'mass_communication_loss', 1, 5 * MIN + TIMEOUT - 1],
      ['op-b', 'mass_communication_loss', 1, 5 * MIN + 2 * TIMEOUT],
    ]);
    expect(e.losses('c')).toBe(2);
    expect(e.all().filter((a) => a.deviceId === 'op-c')).toEqual([]);
  });

  it('hysteresis: no recovery until S falls to ⌊K/2⌋; a second outage gets seq 2', () => {
    const e = open();
    e.say(...A, ...B, ...C);
    const rest = [...A.slice(6), ...B, ...C];
    keepAlive(e, rest, MIN, 0.5 * TIMEOUT);
    e.sweep(TIMEOUT); // a0..a5 silent: S = 6 ≥ 4
    expect(e.mass()).toEqual([['op-a', 'mass_communication_loss', 1, TIMEOUT]]);
    // Back one by one: S = 5, 4, 3 raise nothing; S = 2 = ⌊4/2⌋ recovers.
    e.at(TIMEOUT + MIN);
    for (const d of ['a0', 'a1', 'a2']) e.say(d);
    expect(e.mass()).toHaveLength(1);
    e.at(TIMEOUT + 2 * MIN);
    e.say('a3');
    expect(e.mass()).toEqual([
      ['op-a', 'mass_communication_loss', 1, TIMEOUT],
      ['op-a', 'mass_communication_recovery', 1, TIMEOUT + 2 * MIN],
    ]);
    // S back to 3 (a0 silent again), then 4: the second outage.
    keepAlive(e, [...rest, 'a1', 'a2', 'a3'], TIMEOUT + 3 * MIN, TIMEOUT + 20 * MIN);
    e.sweep(TIMEOUT + MIN + TIMEOUT);
    expect(e.mass()).toHaveLength(2);
    keepAlive(e, [...rest, 'a1', 'a2'], TIMEOUT + 21 * MIN, TIMEOUT + 40 * MIN);
    e.sweep(TIMEOUT + 20 * MIN + TIMEOUT);
    expect(e.mass().slice(2)).toEqual([['op-a', 'mass_communication_loss', 2, TIMEOUT + 20 * MIN + TIMEOUT]]);
  });

  it('a restart mid-outage does not raise the loss again, still raises the recovery, and keeps the ordinal', () => {
    const file = tempFile();
    const rest = [...A.slice(5), ...B, ...C];
    const a = open(file);
    a.say(...A, ...B, ...C);
    keepAlive(a, rest, MIN, TIMEOUT);
    a.sweep(TIMEOUT); // a0..a4 silent: S = 5
    expect(a.mass()).toEqual([['op-a', 'mass_communication_loss', 1, TIMEOUT]]);
    a.close(); // as after a kill -9: everything of that sweep was committed together

    const b = open(file, false);
    keepAlive(b, rest, TIMEOUT + MIN, 2 * TIMEOUT);
    b.sweep(2 * TIMEOUT);
    expect(b.mass()).toHaveLength(1);
    expect(b.losses('a')).toBe(5);
    b.say('a0', 'a1'); // S = 3: still open
    expect(b.mass()).toHaveLength(1);
    b.close();

    const c = open(file, false);
    c.at(2 * TIMEOUT + MIN);
    c.say('a2'); // S = 2 = ⌊K/2⌋: recovery
    expect(c.mass()).toEqual([
      ['op-a', 'mass_communication_loss', 1, TIMEOUT],
      ['op-a', 'mass_communication_recovery', 1, 2 * TIMEOUT + MIN],
    ]);
    c.say('a3', 'a4');
    expect(c.mass()).toHaveLength(2);
    c.close();

    // After another restart, the next outage (every device silent now) is seq 2.
    const d = open(file, false);
    d.sweep(5 * TIMEOUT);
    expect(d.mass('op-a').slice(2)).toEqual([['op-a', 'mass_communication_loss', 2, 5 * TIMEOUT]]);
    expect(d.mass('op-b')).toEqual([['op-b', 'mass_communication_loss', 1, 5 * TIMEOUT]]);
  });

  it('a new run starts the ordinals afresh', () => {
    const e = open();
    e.say(...A);
    e.sweep(TIMEOUT);
    expect(e.mass().map((m) => m[2])).toEqual([1]);
    e.engine.provision({ ...PROV, runId: 'mass-2' });
    e.say(...A);
    e.sweep(3 * TIMEOUT);
    expect(e.mass().map((m) => [m[1], m[2]])).toEqual([['mass_communication_loss', 1], ['mass_communication_loss', 1]]);
  });
});

describe('communication_loss after a pipeline restart (RULES.md "Watching since")', () => {
  it('a restarted pipeline counts no silence it did not watch: the devices get one offline timeout from the restart', () => {
    const file = tempFile();
    const first = open(file);
    first.say(...A, ...B, ...C);
    first.close();
    // Down for 8 virtual minutes after everyone's last record, then restarted from the same file.
    const clock = { real: 8 * MIN };
    const store = new Store(file);
    onCleanup(() => store.close());
    const engine = new Engine(store, { afterCommit: () => {}, log: () => {}, realNow: () => clock.real });
    const losses = (): number => store.alarmsAfter(0, 100_000).filter((a) => a.kind === 'communication_loss').length;
    // L + 10 min has passed, but only 3 min since the restart: what the broker queued may still come.
    clock.real = 11 * MIN;
    engine.sweep();
    expect(losses()).toBe(0);
    // Still nothing 10 min after the restart: every device is silent, each raised then, naming its last record.
    clock.real = 18 * MIN + 1;
    engine.sweep();
    expect(losses()).toBe(A.length + B.length + C.length);
    expect(store.alarmsAfter(0, 100_000).find((a) => a.kind === 'communication_loss')).toMatchObject({ seq: 1, deviceTime: T0 });
  });
});

describe('the watchdog skips its sweep over all devices until one can be due', () => {
  const lossesOf = (e: ReturnType<typeof open>, device: string) =>
    e.all().filter((a) => a.kind === 'communication_loss' && a.deviceId === device).map((a) => [a.seq, a.deviceTime - T0]);

  it('a device first heard after sweeps that found nobody to watch is still due one offline timeout later', () => {
    const e = open();
    e.sweep(0);
    e.sweep(MIN);
    e.at(5 * MIN);
    e.say('a0');
    e.sweep(5 * MIN + TIMEOUT - 1);
    expect(lossesOf(e, 'a0')).toEqual([]);
    e.sweep(5 * MIN + TIMEOUT);
    expect(lossesOf(e, 'a0')).toEqual([[1, 5 * MIN]]);
  });

  it('a record that moves a device\'s due time earlier (its clock set back) is seen at once', () => {
    const e = open();
    // The clock runs 30 minutes ahead: due at +30 min + TIMEOUT, and the sweep learns that.
    e.engine.accept('a0', [hb('a0', 1, T0 + 30 * MIN)]);
    e.engine.flush();
    e.sweep(MIN);
    // Corrected: the next record says T0, so L falls back and the loss is due at T0 + TIMEOUT.
    e.at(2 * MIN);
    e.engine.accept('a0', [hb('a0', 2, T0)]);
    e.engine.flush();
    e.sweep(TIMEOUT - 1);
    expect(lossesOf(e, 'a0')).toEqual([]);
    e.sweep(TIMEOUT);
    expect(lossesOf(e, 'a0')).toEqual([[2, 0]]);
  });
});
