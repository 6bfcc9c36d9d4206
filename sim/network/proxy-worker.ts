/**
 * One shard of the operator network in its own process (forked by proxy-pool.ts, run through tsx):
 * an OperatorProxy per operator of the shard's devices, each on its own loopback port — the main
 * listener ('') — and, per listener opened later ('listen': an endpoint move's new address), one
 * more per operator named. Speaks the IPC protocol of pool-messages.ts; exits when told to close or
 * when its parent goes away.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { virtualClock, type Clock } from '../../protocol/clock.ts';
import { rng } from '../model/random.ts';
import { lastRecordOf, sumStats, toWire, type FromWorker, type ToWorker, type WorkerInit } from './pool-messages.ts';
import { OperatorProxy, type NetworkEvent, type VirtualTime } from './proxy.ts';

const send = (m: FromWorker): void => {
  if (process.connected) process.send?.(m);
};

/** Exits once `m` is on the channel (an exit right after send() may lose it). */
function sendAndExit(m: FromWorker, code: number): void {
  if (process.connected && process.send !== undefined) process.send(m, () => process.exit(code));
  else process.exit(code);
}

if (process.send === undefined) {
  process.stderr.write('proxy-worker.ts is started by ProxyPool (sim/network/proxy-pool.ts), not by hand\n');
  process.exit(2);
}
// The parent is gone (exited, crashed, killed): its devices are gone too.
process.on('disconnect', () => process.exit(0));
// A terminal's Ctrl-C reaches the whole foreground process group, this worker too: the run stops
// it itself once it has drained, read and reported (and a second Ctrl-C exits the run, which ends
// this worker through 'disconnect'). Dying on the first one would cut the run's proxies mid-stop.
process.on('SIGINT', () => {});

/** Real time at speed 1 until the run's timeline gives its clock. */
let clock: Clock | undefined;
const time: VirtualTime = {
  now: () => (clock === undefined ? Date.now() : clock.now()),
  get speed() {
    return clock === undefined ? 1 : clock.triple.speed;
  },
};

/** The main listener's name. */
const MAIN = '';
/** Listener → operator → its proxy. */
const listeners = new Map<string, Map<string, OperatorProxy>>();
/** Each proxy's URL, once it listens (a second listen of the same one waits for the first). */
const urls = new Map<OperatorProxy, Promise<string>>();
let shard = -1;
let initOf: WorkerInit | undefined;
let onUplinkForwarded: ((deviceId: string, payload: Buffer) => void) | undefined;
let journaled = new Set<string>();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const operatorOf = new Map<string, string>();
const eventCounts = new Map<string, Map<string, number>>();
let fwd: (string | number)[] = [];
let events: NetworkEvent[] = [];
let flushTimer: NodeJS.Timeout | undefined;
let flushMs = 50;

function flush(): void {
  if (flushTimer !== undefined) clearTimeout(flushTimer);
  flushTimer = undefined;
  if (fwd.length > 0) send({ t: 'fwd', items: fwd });
  if (events.length > 0) send({ t: 'events', events });
  fwd = [];
  events = [];
}

function later(): void {
  flushTimer ??= setTimeout(flush, flushMs);
}

async function init(o: WorkerInit): Promise<void> {
  initOf = o;
  flushMs = o.flushMs;
  shard = o.shard;
  const operators = new Set<string>();
  for (const [id, op] of o.devices) {
    operatorOf.set(id, op);
    operators.add(op);
  }
  const watched = new Set(o.watched);
  journaled = new Set(o.journaled);
  onUplinkForwarded =
    watched.size === 0
      ? undefined
      : (deviceId: string, payload: Buffer): void => {
          if (!watched.has(deviceId)) return;
          const last = lastRecordOf(deviceId, payload);
          if (last === undefined) return;
          fwd.push(deviceId, time.now(), last.seq, last.time);
          later();
        };
  send({ t: 'ready', endpoints: await listen(MAIN, [...operators].sort()) });
}

/** Opens a proxy per operator under a listener name (each operator once per listener): their URLs. */
async function listen(listener: string, operators: readonly string[]): Promise<Record<string, string>> {
  const o = initOf;
  if (o === undefined) throw new Error('listen before init');
  // Shard 0's main listener draws what an in-process proxy would; the others their own streams.
  const seed = listener === MAIN
    ? o.shard === 0 ? o.seed : Math.floor(rng(o.seed, 'proxy-shard', o.shard).next() * 2 ** 32)
    : Math.floor(rng(o.seed, 'proxy-listener', listener, o.shard).next() * 2 ** 32);
  let mine = listeners.get(listener);
  if (mine === undefined) listeners.set(listener, (mine = new Map()));
  const endpoints: Record<string, string> = {};
  for (const operatorId of operators) {
    let counts = eventCounts.get(operatorId);
    if (counts === undefined) eventCounts.set(operatorId, (counts = new Map()));
    const c = counts;
    let proxy = mine.get(operatorId);
    if (proxy === undefined) {
      const fresh = new OperatorProxy({
        operatorId,
        upstream: o.upstream,
        listenHost: o.listenHost,
        clock: time,
        seed,
        onUplinkForwarded,
        onEvent: (e) => {
          c.set(e.type, (c.get(e.type) ?? 0) + 1);
          if (!journaled.has(e.type)) return;
          events.push(e);
          later();
        },
      });
      const group = mine;
      group.set(operatorId, fresh);
      const url = fresh.start().then((addr) => `mqtt://${addr.host}:${addr.port}`);
      urls.set(fresh, url);
      url.catch(() => {
        group.delete(operatorId);
        urls.delete(fresh);
      });
      proxy = fresh;
    }
    endpoints[operatorId] = await (urls.get(proxy) as Promise<string>);
  }
  return endpoints;
}

/** Every proxy of every listener. */
function allProxies(): OperatorProxy[] {
  return [...listeners.values()].flatMap((m) => [...m.values()]);
}

/** The proxies `on` names ('' the main listener, a listener name, undefined every listener) of an operator. */
function proxiesOf(operatorId: string, on: string | undefined): OperatorProxy[] {
  if (on !== undefined) {
    const p = listeners.get(on)?.get(operatorId);
    return p === undefined ? [] : [p];
  }
  return [...listeners.values()].flatMap((m) => {
    const p = m.get(operatorId);
    return p === undefined ? [] : [p];
  });
}

/** Device ids by their operator's proxies (ids not of this shard are skipped). */
function byProxy(deviceIds: readonly string[], on: string | undefined): Map<OperatorProxy, string[]> {
  const out = new Map<OperatorProxy, string[]>();
  for (const id of deviceIds) {
    const op = operatorOf.get(id);
    if (op === undefined) continue;
    for (const proxy of proxiesOf(op, on)) {
      let list = out.get(proxy);
      if (list === undefined) out.set(proxy, (list = []));
      list.push(id);
    }
  }
  return out;
}

async function close(): Promise<void> {
  const all = allProxies();
  for (const p of all) p.healAll();
  await Promise.all(all.map((p) => p.close()));
  flush();
}

function handle(m: ToWorker): void {
  switch (m.t) {
    case 'init':
      init(m.init).catch((e: unknown) => {
        sendAndExit({ t: 'error', message: `could not start: ${(e as Error).message}` }, 1);
      });
      return;
    case 'clock':
      clock = virtualClock(m.triple);
      return;
    case 'apply':
      for (const [proxy, ids] of byProxy(m.deviceIds, m.on)) proxy.apply(m.faultId, m.effect, ids);
      return;
    case 'heal':
      if (m.deviceIds === undefined) for (const p of m.on === undefined ? allProxies() : [...(listeners.get(m.on)?.values() ?? [])]) p.heal(m.faultId);
      else for (const [proxy, ids] of byProxy(m.deviceIds, m.on)) proxy.heal(m.faultId, ids);
      return;
    case 'listen':
      listen(m.listener, m.operators).then(
        (endpoints) => send({ t: 'listening', req: m.req, endpoints }),
        (e: unknown) => send({ t: 'listening', req: m.req, endpoints: {}, error: (e as Error).message }),
      );
      return;
    case 'healAll':
      for (const p of allProxies()) p.healAll();
      flush();
      send({ t: 'done', req: m.req });
      return;
    case 'stats': {
      flush();
      // An operator's listeners are one path: their stats add up.
      const byOp = new Map<string, OperatorProxy[]>();
      for (const m2 of listeners.values()) for (const [op, p] of m2) byOp.set(op, [...(byOp.get(op) ?? []), p]);
      const stats = Object.fromEntries([...byOp].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([op, ps]) => [op, ps.length === 1 ? toWire((ps[0] as OperatorProxy).stats) : toWire(sumStats(ps.map((p) => toWire(p.stats))))]));
      const ev = Object.fromEntries([...eventCounts].map(([op, c]) => [op, Object.fromEntries(c)]));
      const cpu = process.cpuUsage();
      const health = {
        shard,
        pid: process.pid,
        devices: operatorOf.size,
        // the histogram counts the sampling interval itself: subtract it
        eventLoopP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - 10),
        eventLoopMaxMs: Math.max(0, loopDelay.max / 1e6 - 10),
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        rssBytes: process.memoryUsage.rss(),
      };
      loopDelay.reset();
      send({ t: 'stats', req: m.req, stats, events: ev, health });
      return;
    }
    case 'close':
      close().then(
        () => sendAndExit({ t: 'done', req: m.req }, 0),
        (e: unknown) => sendAndExit({ t: 'error', message: `close failed: ${(e as Error).message}` }, 1),
      );
      return;
  }
}

process.on('message', (m: ToWorker) => {
  try {
    handle(m);
  } catch (e) {
    send({ t: 'error', message: `${m.t}: ${(e as Error).message}` });
  }
});
