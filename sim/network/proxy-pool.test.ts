/**
 * The proxy pool on the wire: operator proxies in worker processes, sharded 3 devices a worker,
 * real mqtt.js devices publishing through their shard's endpoint to the embedded aedes broker, a
 * subscriber straight on the broker seeing what got through.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VigilError } from '../../protocol/errors.ts';
import { encodeBatch, upTopic } from '../../protocol/uplink.ts';
import { startEmbeddedBroker, type RunningBroker } from '../broker.ts';
import { newFaultStats } from './effects.ts';
import { newProxyStats } from './events.ts';
import { lastRecordOf, sumStats, toWire } from './pool-messages.ts';
import { ProxyPool } from './proxy-pool.ts';
import type { NetworkEvent } from './proxy.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, withinMs = 3000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

function batch(device: string, seq: number, time: number): Buffer {
  return Buffer.from(encodeBatch([{ device, seq, time, type: 'heartbeat', battery: 90 }]));
}

describe('lastRecordOf and sumStats', () => {
  it('reads the last record of a batch, slice or full parse', () => {
    const recs = [1, 2, 3].map((seq) => ({ device: 'd1', seq, time: 1000 + seq, type: 'event' as const, battery: 50, event: 'tamper' }));
    expect(lastRecordOf('d1', Buffer.from(encodeBatch(recs)))).toEqual({ seq: 3, time: 1003 });
    const braces = [{ ...recs[0]!, event: 'a}b{c' }];
    expect(lastRecordOf('d1', Buffer.from(encodeBatch(braces)))).toEqual({ seq: 1, time: 1001 });
    expect(lastRecordOf('d1', Buffer.from('not json'))).toBeUndefined();
    expect(lastRecordOf('d1', Buffer.from('{"v":1,"records":[]}'))).toBeUndefined();
  });

  it('sums counters and merges byFault maps', () => {
    const a = newProxyStats();
    const b = newProxyStats();
    a.packetsUp = 3;
    b.packetsUp = 4;
    const fa = newFaultStats('black-hole');
    fa.devices = 1;
    fa.packetsDropped = 2;
    fa.fakeReplies.puback = 1;
    const fb = newFaultStats('black-hole');
    fb.devices = 2;
    fb.packetsDropped = 5;
    fb.fakeReplies.puback = 2;
    a.byFault.set('bh', fa);
    b.byFault.set('bh', fb);
    b.byFault.set('other', newFaultStats('mtu'));
    const s = sumStats([toWire(a), toWire(b)]);
    expect(s.packetsUp).toBe(7);
    expect(s.byFault.get('bh')).toMatchObject({ kind: 'black-hole', devices: 3, packetsDropped: 7, fakeReplies: { puback: 3 } });
    expect(s.byFault.get('other')?.kind).toBe('mtu');
  });
});

describe('ProxyPool', () => {
  let broker: RunningBroker;
  let sub: MqttClient;
  const arrivals = new Set<string>();
  const clients = new Map<string, MqttClient>();
  const ids = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'];
  // d0 opA, d1 opB, ... → shard i mod 3: {d0 A, d3 B, d6 A}, {d1 B, d4 A, d7 B}, {d2 A, d5 B}
  const devices = new Map(ids.map((id, i) => [id, i % 2 === 0 ? 'opA' : 'opB']));
  const forwarded: { deviceId: string; at: number; seq: number; time: number }[] = [];
  const events: NetworkEvent[] = [];
  const errors: VigilError[] = [];
  let pool: ProxyPool;
  let upstream: { host: string; port: number };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    upstream = { host: '127.0.0.1', port: Number(new URL(broker.url).port) };
    sub = mqtt.connect(broker.url, { clientId: 'watcher', reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      sub.once('connect', () => sub.subscribe('vigil/v1/devices/+/up', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
      sub.once('error', reject);
    });
    sub.on('message', (_t, payload) => arrivals.add(payload.toString()));
    pool = await ProxyPool.start({
      upstream,
      devices,
      seed: 7,
      maxDevicesPerWorker: 3,
      watched: new Set(['d0', 'd1']),
      onForwarded: (deviceId, at, seq, time) => forwarded.push({ deviceId, at, seq, time }),
      onEvent: (e) => events.push(e),
      onError: (e) => errors.push(e),
    });
    await Promise.all(
      ids.map(
        (id) =>
          new Promise<void>((resolve, reject) => {
            const c = mqtt.connect(pool.endpointOf(id), { clientId: id, protocolVersion: 4, keepalive: 0, reconnectPeriod: 0, connectTimeout: 3000 });
            c.on('error', () => {});
            clients.set(id, c);
            c.once('connect', () => resolve());
            c.once('close', () => reject(new Error(`${id} did not connect`)));
          }),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))));
    await pool?.close();
    await new Promise<void>((r) => sub.end(true, {}, () => r()));
    await broker.close();
  });

  let seq = 0;
  /** Publishes one batch QoS 1: whether the PUBACK came within `withinMs`, and whether the subscriber saw it. */
  async function send(id: string, withinMs = 1000): Promise<{ acked: boolean; arrived: boolean; seq: number; time: number }> {
    const s = ++seq;
    const time = 1_700_000_000_000 + s;
    const payload = batch(id, s, time);
    const acked = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), withinMs);
      clients.get(id)!.publish(upTopic(id), payload, { qos: 1 }, (err) => {
        clearTimeout(t);
        resolve(err === undefined || err === null);
      });
    });
    const arrived = await until(() => arrivals.has(payload.toString()), acked ? 1000 : 200);
    return { acked, arrived, seq: s, time };
  }

  it('shards devices 3 a worker, one endpoint per (operator, shard)', () => {
    expect(pool.workerCount).toBe(3);
    expect(new Set(pool.pids).size).toBe(3);
    expect(pool.shardOfDevice('d0')).toBe(0);
    expect(pool.shardOfDevice('d4')).toBe(1);
    expect(pool.shardOfDevice('d5')).toBe(2);
    expect(pool.endpointOf('d0')).toBe(pool.endpointOf('d6')); // shard 0, opA
    expect(pool.endpointOf('d0')).not.toBe(pool.endpointOf('d3')); // shard 0, opB
    expect(pool.endpointOf('d0')).not.toBe(pool.endpointOf('d4')); // opA, shard 1
    expect(new Set(ids.map((id) => pool.endpointOf(id))).size).toBe(6);
    expect(() => pool.endpointOf('nobody')).toThrow(VigilError);
  });

  it('passes traffic of every device', async () => {
    const results = await Promise.all(ids.map((id) => send(id)));
    expect(results.map((r) => r.acked && r.arrived)).toEqual(ids.map(() => true));
  });

  it('a black hole on one device silences it and not the others', async () => {
    pool.apply('bh', { kind: 'black-hole' }, ['d4']);
    await sleep(100); // the apply travels over IPC
    const [d4, d1, d7, d0] = await Promise.all(['d4', 'd1', 'd7', 'd0'].map((id) => send(id, 700)));
    expect(d4).toMatchObject({ acked: false, arrived: false });
    expect([d1, d7, d0].map((r) => r?.acked && r.arrived)).toEqual([true, true, true]);
    expect(await until(() => events.some((e) => e.type === 'black-holed' && e.deviceId === 'd4'))).toBe(true);
    const stats = await pool.stats();
    expect(stats.opA?.byFault.get('bh')).toMatchObject({ kind: 'black-hole', devices: 1 });
    expect(stats.opA?.byFault.get('bh')?.packetsDropped).toBeGreaterThanOrEqual(1);
    pool.heal('bh');
    expect(() => pool.apply('bh2', { kind: 'latency', delayMs: -1, jitterMs: 0 }, ['d0'])).toThrow(VigilError);
  });

  it('ack-then-lose: acked, lost; its heal closes the connection', async () => {
    pool.apply('atl', { kind: 'ack-then-lose' }, ['d5']);
    await sleep(100);
    expect(await send('d5')).toMatchObject({ acked: true, arrived: false });
    const closed = new Promise<void>((r) => clients.get('d5')!.once('close', () => r()));
    pool.heal('atl', ['d5']);
    await closed;
    const stats = await pool.stats();
    expect(stats.opB?.byFault.get('atl')).toMatchObject({ healCloses: 1, devices: 0 });
    expect(stats.opB?.healCloses).toBe(1);
  });

  it('reports forwarded batches of watched devices only, with virtual time after setClock', async () => {
    forwarded.length = 0;
    const startVirtual = 1_900_000_000_000;
    pool.setClock({ startVirtual, startReal: Date.now(), speed: 10 });
    await sleep(50);
    const d0 = await send('d0');
    const d2 = await send('d2');
    const d1 = await send('d1');
    expect(d2.arrived).toBe(true);
    expect(await until(() => forwarded.length >= 2)).toBe(true);
    await sleep(120); // a late report of d2 would show now
    expect(forwarded.map((f) => [f.deviceId, f.seq, f.time])).toEqual([
      ['d0', d0.seq, d0.time],
      ['d1', d1.seq, d1.time],
    ]);
    for (const f of forwarded) {
      expect(f.at).toBeGreaterThanOrEqual(startVirtual);
      expect(f.at).toBeLessThan(startVirtual + 60_000);
    }
  });

  it('sums stats over shards and counts every event type', async () => {
    const snap = await pool.snapshot();
    expect(Object.keys(snap.stats)).toEqual(['opA', 'opB']);
    expect(snap.stats.opA?.connectionsAccepted).toBe(4);
    expect(snap.stats.opB?.connectionsAccepted).toBe(4);
    expect(snap.stats.opB?.connectionsOpen).toBe(3); // d5 was closed by the heal
    expect(snap.events.opA?.identified).toBe(4);
    expect((await pool.eventCounts()).open).toBe(8);
    expect(snap.workers.map((w) => [w.shard, w.pid, w.devices])).toEqual([0, 1, 2].map((i) => [i, pool.pids[i], i === 2 ? 2 : 3]));
    expect(snap.workers.every((w) => w.rssBytes > 0 && w.cpuUserMs > 0 && w.eventLoopMaxMs >= 0)).toBe(true);
    // journaled types only reached onEvent
    expect(events.every((e) => ['reset', 'black-holed', 'stall', 'nat-expired'].includes(e.type))).toBe(true);
  });

  it('a worker killed with SIGKILL fails the pool with a VigilError; close leaves no child', async () => {
    const small = new Map([
      ['k0', 'opA'],
      ['k1', 'opA'],
    ]);
    const seen: VigilError[] = [];
    const p = await ProxyPool.start({ upstream, devices: small, seed: 1, maxDevicesPerWorker: 1, onError: (e) => seen.push(e) });
    const pids = [...p.pids];
    expect(pids).toHaveLength(2);
    await p.healAll();
    process.kill(pids[1]!, 'SIGKILL');
    expect(await until(() => seen.length > 0)).toBe(true);
    expect(seen[0]).toBeInstanceOf(VigilError);
    expect(seen[0]?.message).toMatch(/worker 1 .*SIGKILL/);
    await expect(p.healAll()).rejects.toThrow(VigilError);
    await expect(p.stats()).rejects.toThrow(/SIGKILL/);
    expect(() => p.apply('x', { kind: 'black-hole' }, ['k0'])).toThrow(VigilError);
    await p.close();
    expect(pids.filter(alive)).toEqual([]);
    expect(errors).toEqual([]); // the main pool is unaffected
  });

  it('close() heals, stops every worker, and no child is left', async () => {
    const pids = [...pool.pids];
    expect(pids.filter(alive)).toHaveLength(3);
    await pool.healAll();
    await pool.close();
    expect(pids.filter(alive)).toEqual([]);
    await expect(pool.stats()).rejects.toThrow(/after close/);
  });

  it('workers exit when their parent dies', async () => {
    const poolFile = fileURLToPath(new URL('./proxy-pool.ts', import.meta.url));
    const script = `
      const { ProxyPool } = await import(${JSON.stringify(poolFile)});
      const p = await ProxyPool.start({ upstream: { host: '127.0.0.1', port: ${upstream.port} }, devices: new Map([['p0', 'opA'], ['p1', 'opB']]), seed: 1, maxDevicesPerWorker: 1 });
      console.log(JSON.stringify(p.pids));
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout! }).once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`parent exited ${String(code)}`)));
    });
    const pids = JSON.parse(line) as number[];
    expect(pids.filter(alive)).toHaveLength(2);
    parent.kill('SIGKILL');
    expect(await until(() => pids.filter(alive).length === 0, 5000)).toBe(true);
  });
});

describe('ProxyPool listeners (an endpoint move)', () => {
  let broker: RunningBroker;
  let sub: MqttClient;
  let pool: ProxyPool;
  const arrivals = new Set<string>();
  const open: MqttClient[] = [];
  // 2 workers: shard 0 = {m0 opA, m2 opA, m4 opB}, shard 1 = {m1 opB, m3 opB, m5 opA}
  const ops = ['opA', 'opB', 'opA', 'opB', 'opB', 'opA'];
  const devices = new Map(ops.map((op, i) => [`m${i}`, op]));

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    sub = mqtt.connect(broker.url, { clientId: 'watcher-move', reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      sub.once('connect', () => sub.subscribe('vigil/v1/devices/+/up', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
      sub.once('error', reject);
    });
    sub.on('message', (_t, payload) => arrivals.add(payload.toString()));
    pool = await ProxyPool.start({ upstream: { host: '127.0.0.1', port: Number(new URL(broker.url).port) }, devices, seed: 3, maxDevicesPerWorker: 3 });
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))));
    await pool?.close();
    await new Promise<void>((r) => sub.end(true, {}, () => r()));
    await broker.close();
  });

  /** Dials once: the client once its CONNACK came, undefined when the proxy reset it first. */
  async function dial(id: string, url: string): Promise<MqttClient | undefined> {
    const c = mqtt.connect(url, { clientId: id, protocolVersion: 4, keepalive: 0, reconnectPeriod: 0, connectTimeout: 2000 });
    c.on('error', () => {});
    open.push(c);
    return new Promise((resolve) => {
      c.once('connect', () => resolve(c));
      c.once('close', () => resolve(undefined));
    });
  }

  let seq = 0;
  async function delivered(c: MqttClient, id: string): Promise<boolean> {
    const payload = batch(id, ++seq, 1_700_000_000_000 + seq);
    const acked = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 1000);
      c.publish(upTopic(id), payload, { qos: 1 }, (err) => {
        clearTimeout(t);
        resolve(err === undefined || err === null);
      });
    });
    return acked && (await until(() => arrivals.has(payload.toString()), 1000));
  }

  it('moves the targeted devices: reset and refused on the old address, served on the new one; the others untouched', async () => {
    const m0 = (await dial('m0', pool.endpointOf('m0')))!;
    const m2 = (await dial('m2', pool.endpointOf('m2')))!;
    const m4 = (await dial('m4', pool.endpointOf('m4')))!;
    expect([m0, m2, m4].every((c) => c !== undefined)).toBe(true);
    // A fault on every listener of m4, applied before the new address exists, reaches it too.
    pool.apply('rf', { kind: 'refuse' }, ['m4']);

    await pool.listen('move', ['m0', 'm4']);
    const fresh = pool.endpointOf('m0', 'move');
    expect(fresh).not.toBe(pool.endpointOf('m0'));
    expect(pool.endpointOf('m4', 'move')).not.toBe(pool.endpointOf('m4'));
    expect(pool.endpointOf('m4', 'move')).not.toBe(fresh); // opB's own proxy
    expect(pool.endpointOf('m2', 'move')).toBe(fresh); // shard 0's opA listener: the address exists, only the moving devices are sent to it
    expect(() => pool.endpointOf('m5', 'move')).toThrow(VigilError); // shard 1 opened none
    expect(() => pool.apply('move', { kind: 'partition' }, ['m0'], 'nowhere-else')).toThrow(/no listener "nowhere-else" for m0/);

    const resets = [m0, m4].map((c) => new Promise<void>((r) => c.once('close', () => r())));
    pool.apply('move', { kind: 'partition' }, ['m0', 'm4'], ProxyPool.MAIN_LISTENER);
    await Promise.all(resets);
    expect(() => pool.apply('move', { kind: 'partition' }, ['m0'])).toThrow(/listener/);

    // The old address refuses them; the new one serves m0, its traffic reaches the broker.
    expect(await dial('m0', pool.endpointOf('m0'))).toBeUndefined();
    const moved = await dial('m0', fresh);
    expect(moved).toBeDefined();
    expect(await delivered(moved!, 'm0')).toBe(true);
    // m4 is still refused by the other fault, on both addresses, until it heals.
    expect(await dial('m4', pool.endpointOf('m4', 'move'))).toBeUndefined();
    pool.heal('rf');
    await sleep(100);
    const m4moved = await dial('m4', pool.endpointOf('m4', 'move'));
    expect(m4moved).toBeDefined();
    expect(await delivered(m4moved!, 'm4')).toBe(true);

    // An untargeted device on the old address, same shard and operator as m0: unaffected.
    expect(m2.connected).toBe(true);
    expect(await delivered(m2, 'm2')).toBe(true);

    const stats = await pool.stats();
    expect(stats.opA?.byFault.get('move')).toMatchObject({ kind: 'partition', devices: 1 }); // m0 (m4 is opB's)
    expect(stats.opA?.byFault.get('move')?.resets).toBeGreaterThanOrEqual(2); // m0's session, then its dial
    // An operator's listeners are one path: m0 and m2, m0's refused dial (old), m0 on the new one.
    expect(stats.opA?.connectionsAccepted).toBe(4);

    // Heal: the old address serves m0 again; the moved session is untouched.
    pool.heal('move');
    await sleep(100);
    const back = await dial('m0', pool.endpointOf('m0'));
    expect(back).toBeDefined();
    expect(await delivered(back!, 'm0')).toBe(true);
  });
});
