/**
 * One shard of the operator network in its own process (forked by proxy-pool.ts, run through tsx):
 * an OperatorProxy per operator of the shard's devices, each on its own loopback port. Speaks the
 * IPC protocol of pool-messages.ts; exits when told to close or when its parent goes away.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { virtualClock, type Clock } from '../../protocol/clock.ts';
import { rng } from '../model/random.ts';
import { lastRecordOf, toWire, type FromWorker, type ToWorker, type WorkerInit } from './pool-messages.ts';
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

/** Real time at speed 1 until the run's timeline gives its clock. */
let clock: Clock | undefined;
const time: VirtualTime = {
  now: () => (clock === undefined ? Date.now() : clock.now()),
  get speed() {
    return clock === undefined ? 1 : clock.triple.speed;
  },
};

const proxies = new Map<string, OperatorProxy>();
let shard = -1;
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
  flushMs = o.flushMs;
  shard = o.shard;
  const operators = new Set<string>();
  for (const [id, op] of o.devices) {
    operatorOf.set(id, op);
    operators.add(op);
  }
  const watched = new Set(o.watched);
  const journaled = new Set(o.journaled);
  const onUplinkForwarded =
    watched.size === 0
      ? undefined
      : (deviceId: string, payload: Buffer): void => {
          if (!watched.has(deviceId)) return;
          const last = lastRecordOf(deviceId, payload);
          if (last === undefined) return;
          fwd.push(deviceId, time.now(), last.seq, last.time);
          later();
        };
  // Shard 0 draws what an in-process proxy would; the others their own streams.
  const seed = o.shard === 0 ? o.seed : Math.floor(rng(o.seed, 'proxy-shard', o.shard).next() * 2 ** 32);
  const endpoints: Record<string, string> = {};
  for (const operatorId of [...operators].sort()) {
    const counts = new Map<string, number>();
    eventCounts.set(operatorId, counts);
    const proxy = new OperatorProxy({
      operatorId,
      upstream: o.upstream,
      listenHost: o.listenHost,
      clock: time,
      seed,
      onUplinkForwarded,
      onEvent: (e) => {
        counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
        if (!journaled.has(e.type)) return;
        events.push(e);
        later();
      },
    });
    proxies.set(operatorId, proxy);
    const addr = await proxy.start();
    endpoints[operatorId] = `mqtt://${addr.host}:${addr.port}`;
  }
  send({ t: 'ready', endpoints });
}

/** Device ids by their operator's proxy (ids not of this shard are skipped). */
function byProxy(deviceIds: readonly string[]): Map<OperatorProxy, string[]> {
  const out = new Map<OperatorProxy, string[]>();
  for (const id of deviceIds) {
    const proxy = proxies.get(operatorOf.get(id) ?? '');
    if (proxy === undefined) continue;
    let list = out.get(proxy);
    if (list === undefined) out.set(proxy, (list = []));
    list.push(id);
  }
  return out;
}

async function close(): Promise<void> {
  for (const p of proxies.values()) p.healAll();
  await Promise.all([...proxies.values()].map((p) => p.close()));
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
      for (const [proxy, ids] of byProxy(m.deviceIds)) proxy.apply(m.faultId, m.effect, ids);
      return;
    case 'heal':
      if (m.deviceIds === undefined) for (const p of proxies.values()) p.heal(m.faultId);
      else for (const [proxy, ids] of byProxy(m.deviceIds)) proxy.heal(m.faultId, ids);
      return;
    case 'healAll':
      for (const p of proxies.values()) p.healAll();
      flush();
      send({ t: 'done', req: m.req });
      return;
    case 'stats': {
      flush();
      const stats = Object.fromEntries([...proxies].map(([op, p]) => [op, toWire(p.stats)]));
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
