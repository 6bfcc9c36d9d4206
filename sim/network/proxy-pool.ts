/**
 * The operator network at full scale: the operator proxies (proxy.ts) in child processes, sharded so
 * that no process runs out of file descriptors, behind one API the run uses instead of in-process
 * OperatorProxy instances.
 *
 * Why processes: a proxied device costs three sockets in one process (device client, proxy device
 * side, proxy upstream) and two in a separate one; file descriptors are per process (worker threads
 * share them), and 15,000 devices × 3 is past the 20,000 open files a process gets. The proxies' CPU
 * (~20 µs a packet) also leaves the fleet's event loop.
 *
 * Sharding: with D devices and at most M a worker, the pool starts N = ⌈D / M⌉ workers and the
 * device at index i of `devices` (its iteration order: the scenario's fleet order, itself fixed by
 * the seed) goes to worker i mod N, so shards differ in size by at most one and every operator is
 * spread evenly. A worker runs one OperatorProxy per operator of its devices, each on its own
 * loopback port; `endpointOf(device)` is its shard's proxy for its operator. A device must always
 * connect through its endpoint: only that proxy applies its faults.
 *
 * Listeners: those proxies are the main listener. `listen(name, devices)` opens, in each worker
 * holding some of the devices, one more proxy per operator of theirs — a second address of the
 * same operator path to the same broker (an endpoint move's new address) — and
 * `endpointOf(device, name)` is the device's one. A fault applies to every listener of its devices
 * unless `apply` names one (`MAIN_LISTENER` the main one): an endpoint move partitions its devices
 * on the main listener only, while the new one serves them.
 *
 * Budget: a worker holds 2 sockets per device, plus a device's old connection while it reconnects
 * (a silenced connection lingers until the device gives up on it) and a few for itself; M defaults
 * to 8,000, lower when `ulimit -n` leaves less than 2 M + 512 (with 20,000: 8,000, so 15,350
 * devices take 2 workers).
 *
 * Time: workers start on real time at speed 1 (virtual = real); `setClock` gives them the run's
 * triple (protocol/clock.ts) and they build their own virtual clock, so the `at` of forwarded
 * reports and events agree with the run's. Give the clock before applying faults: an effect's
 * virtual-ms parameters are converted to real ms with the speed at the time it is applied.
 *
 * Reports: forwarded uplinks of `watched` devices (seq and time of each batch's last record, `at` =
 * the worker's virtual now when it forwarded) and the `journaledEvents` come in batches every
 * `flushMs`; every event type is counted in the workers (`snapshot().events`). Before a healAll,
 * stats or close answers, the worker flushes, so what it forwarded before is delivered first.
 *
 * Failures: a worker that exits unexpectedly (or does not answer in time) fails the pool: `onError`
 * gets a VigilError naming the worker, its exit code or signal and its last stderr lines; from then
 * on apply/heal throw it and healAll/stats reject with it (healAll still heals the live workers
 * first). close() always resolves. Workers exit when the parent goes away (IPC 'disconnect').
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClockTriple } from '../../protocol/clock.ts';
import { VigilError } from '../../protocol/errors.ts';
import { validateEffect, type FaultEffect } from './effects.ts';
import type { NetworkEvent, ProxyStats } from './events.ts';
import { sumStats, type FromWorker, type ToWorker, type WireStats, type WorkerHealth } from './pool-messages.ts';

export type { WorkerHealth } from './pool-messages.ts';

export interface ProxyPoolOptions {
  /** The broker. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** deviceId → operator, in the fleet's order (sharding follows it). */
  readonly devices: ReadonlyMap<string, string>;
  /** Seeds loss and jitter draws (each shard draws its own stream). */
  readonly seed: number;
  /** Default 8,000 (fewer when the open-file limit is lower). */
  readonly maxDevicesPerWorker?: number;
  /** Devices whose forwarded uplinks are reported to onForwarded. */
  readonly watched?: ReadonlySet<string>;
  /** A forwarded uplink batch of a watched device: `at` virtual ms in the worker, seq and device time of its last record. */
  readonly onForwarded?: (deviceId: string, at: number, seq: number, time: number) => void;
  /** Events of the journaled types. */
  readonly onEvent?: (e: NetworkEvent) => void;
  /** Default: reset, black-holed, stall, nat-expired (the ones a fault causes). */
  readonly journaledEvents?: ReadonlySet<string>;
  /** A worker died or stopped answering; called once. */
  readonly onError?: (err: VigilError) => void;
  /** The run's clock when already known (else setClock later). */
  readonly clock?: ClockTriple;
  /** Default 127.0.0.1. */
  readonly listenHost?: string;
  /** Real ms between report batches. Default 50. */
  readonly flushMs?: number;
  /** Real ms for workers to start listening. Default 30,000. */
  readonly startTimeoutMs?: number;
  /** Real ms a worker has to answer healAll / stats / close. Default 10,000. */
  readonly replyTimeoutMs?: number;
  /** Extra node flags for the workers (e.g. --max-old-space-size=…, --cpu-prof for a diagnosis). */
  readonly workerNodeArgs?: readonly string[];
}

export const DEFAULT_JOURNALED_EVENTS: ReadonlySet<string> = new Set(['reset', 'black-holed', 'stall', 'nat-expired']);
export const DEFAULT_MAX_DEVICES_PER_WORKER = 8000;
/** File descriptors a worker keeps for itself and for reconnect overlap, beyond 2 per device. */
const FD_MARGIN = 512;

const WORKER_FILE = fileURLToPath(new URL('./proxy-worker.ts', import.meta.url));
/** The same loader as bin/vigil.js (tsx), resolved from Vigil's own node_modules whatever the cwd. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The soft open-file limit of this process (inherited by the workers); Infinity when unknown. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === undefined || m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return Infinity;
  }
}

/** Per operator, summed over its shards. */
export interface PoolSnapshot {
  readonly stats: Record<string, ProxyStats>;
  /** Per operator, per event type: every event the workers' proxies emitted. */
  readonly events: Record<string, Record<string, number>>;
  /** Each worker, by shard: event-loop delay since the previous snapshot, CPU, RSS. */
  readonly workers: readonly WorkerHealth[];
}

interface Pending {
  resolve(m: FromWorker): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

class WorkerHandle {
  endpoints: Readonly<Record<string, string>> = {};
  /** Listener name → operator → URL (the listeners opened by listen()). */
  readonly listeners = new Map<string, Record<string, string>>();
  readonly pending = new Map<number, Pending>();
  readonly exited: Promise<void>;
  exitedAlready = false;
  /** close() asked it to exit: an exit is expected. */
  closing = false;
  private stderr = '';

  constructor(
    readonly shard: number,
    readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stderrTail(): string {
    return this.stderr.trim();
  }

  send(m: ToWorker): void {
    if (this.exitedAlready || !this.child.connected) return;
    this.child.send(m, (err) => {
      if (err !== null && err !== undefined) this.stderr += `\n(ipc send failed: ${err.message})`;
    });
  }
}

export class ProxyPool {
  private readonly workers: WorkerHandle[] = [];
  private readonly shardOf = new Map<string, number>();
  /** Active faults: effect, devices and listener (undefined: all), to check a reused id and route a heal. */
  private readonly faults = new Map<string, { effect: FaultEffect; devices: Set<string>; on: string | undefined }>();
  private nextReq = 1;
  private failure: VigilError | undefined;
  private closing: Promise<void> | undefined;
  /** onForwarded / onEvent threw (the pool carries on). */
  callbackErrors = 0;

  private constructor(private readonly o: ProxyPoolOptions) {}

  static async start(opts: ProxyPoolOptions): Promise<ProxyPool> {
    const limit = openFileLimit();
    const fit = Math.floor((limit - FD_MARGIN) / 2);
    const max = opts.maxDevicesPerWorker ?? Math.min(DEFAULT_MAX_DEVICES_PER_WORKER, fit);
    if (!Number.isInteger(max) || max < 1) {
      throw new VigilError('VIGIL_USAGE', `proxy pool: maxDevicesPerWorker = ${max} (open-file limit ${limit})`, 'give maxDevicesPerWorker an integer ≥ 1, and a process at least 1,024 open files');
    }
    if (max > fit) {
      throw new VigilError('VIGIL_USAGE', `proxy pool: ${max} devices a worker need ${2 * max + FD_MARGIN} open files, the limit is ${limit}`, `give maxDevicesPerWorker at most ${fit}`);
    }
    const pool = new ProxyPool(opts);
    const n = Math.ceil(opts.devices.size / max);
    const shards: [string, string][][] = Array.from({ length: n }, () => []);
    let i = 0;
    for (const [id, op] of opts.devices) {
      const shard = i++ % n;
      pool.shardOf.set(id, shard);
      (shards[shard] as [string, string][]).push([id, op]);
    }
    const journaled = [...(opts.journaledEvents ?? DEFAULT_JOURNALED_EVENTS)];
    try {
      await Promise.all(
        shards.map((devices, shard) =>
          pool.startWorker(shard, {
            shard,
            upstream: { host: opts.upstream.host, port: opts.upstream.port },
            listenHost: opts.listenHost ?? '127.0.0.1',
            seed: opts.seed,
            devices,
            watched: opts.watched === undefined ? [] : devices.map(([id]) => id).filter((id) => opts.watched?.has(id)),
            journaled,
            flushMs: opts.flushMs ?? 50,
          }),
        ),
      );
    } catch (e) {
      await pool.close();
      throw e;
    }
    if (opts.clock !== undefined) pool.setClock(opts.clock);
    return pool;
  }

  private async startWorker(shard: number, init: Extract<ToWorker, { t: 'init' }>['init']): Promise<void> {
    const child = fork(WORKER_FILE, [], {
      execArgv: [...(this.o.workerNodeArgs ?? []), '--import', TSX_LOADER],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const w = new WorkerHandle(shard, child);
    this.workers.push(w);
    const timeoutMs = this.o.startTimeoutMs ?? 30_000;
    let starting: ((why: string | undefined) => void) | undefined;
    child.on('error', (e) => {
      // fork failed, or a kill / send on a dead process: the exit (if any) reports it.
      if (starting !== undefined) starting(e.message);
    });
    child.on('exit', (code, signal) => {
      w.exitedAlready = true;
      if (starting !== undefined) starting(`exited (${signal ?? `code ${String(code)}`})`);
      else this.workerExited(w, code, signal);
    });
    child.on('message', (m: FromWorker) => {
      if (starting === undefined) this.onMessage(w, m);
      else if (m.t === 'ready') {
        w.endpoints = m.endpoints;
        starting(undefined);
      } else if (m.t === 'error') starting(m.message);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => starting?.(`not listening within ${timeoutMs} ms`), timeoutMs);
      starting = (why) => {
        starting = undefined;
        clearTimeout(timer);
        if (why === undefined) resolve();
        else reject(new VigilError('VIGIL_USAGE', `operator proxy worker ${shard} (pid ${w.pid}) did not start: ${why}${tail(w)}`, 'check the broker address, free loopback ports and file descriptors'));
      };
      w.send({ t: 'init', init });
    });
  }

  private onMessage(w: WorkerHandle, m: FromWorker): void {
    switch (m.t) {
      case 'fwd': {
        const on = this.o.onForwarded;
        if (on === undefined) return;
        const it = m.items;
        for (let i = 0; i + 3 < it.length; i += 4) {
          try {
            on(it[i] as string, it[i + 1] as number, it[i + 2] as number, it[i + 3] as number);
          } catch {
            this.callbackErrors++;
          }
        }
        return;
      }
      case 'events': {
        const on = this.o.onEvent;
        if (on === undefined) return;
        for (const e of m.events) {
          try {
            on(e);
          } catch {
            this.callbackErrors++;
          }
        }
        return;
      }
      case 'done':
      case 'listening':
      case 'stats': {
        const p = w.pending.get(m.req);
        if (p === undefined) return;
        w.pending.delete(m.req);
        clearTimeout(p.timer);
        p.resolve(m);
        return;
      }
      case 'error':
        // apply / heal the worker could not do: the parent checks them first, so this is a bug.
        this.fail(new VigilError('VIGIL_USAGE', `operator proxy worker ${w.shard} (pid ${w.pid}): ${m.message}`, 'this is a Vigil bug: report it with the run log'));
        return;
      case 'ready':
        return;
    }
  }

  private workerExited(w: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    const err = this.deathError(w, `exited unexpectedly (${signal ?? `code ${String(code)}`})`);
    if (!w.closing) this.fail(err);
    for (const p of w.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    w.pending.clear();
  }

  private deathError(w: WorkerHandle, what: string): VigilError {
    const n = [...this.shardOf.values()].filter((s) => s === w.shard).length;
    return new VigilError(
      'VIGIL_BROKER_UNREACHABLE',
      `operator proxy worker ${w.shard} (pid ${w.pid}, ${n} devices) ${what}: its devices have no network, the run cannot go on${tail(w)}`,
      'look at the worker error above (out of memory or file descriptors?); lower maxDevicesPerWorker or the fleet size',
    );
  }

  private fail(err: VigilError): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    try {
      this.o.onError?.(err);
    } catch {
      this.callbackErrors++;
    }
  }

  /** The pool's error once a worker died, else undefined. */
  get error(): VigilError | undefined {
    return this.failure;
  }

  /** The workers' process ids, by shard. */
  get pids(): readonly number[] {
    return this.workers.map((w) => w.pid);
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** The shard (worker index) serving a device. */
  shardOfDevice(deviceId: string): number {
    const shard = this.shardOf.get(deviceId);
    if (shard === undefined) throw new VigilError('VIGIL_USAGE', `device ${deviceId} is not one of the proxy pool's devices`, 'give every device of the run, with its operator, to ProxyPool.start');
    return shard;
  }

  /** The main listener's name (apply / heal on the devices' original endpoints only). */
  static readonly MAIN_LISTENER = '';

  /**
   * The proxy URL a device connects to: its shard's proxy of its operator — on the main listener,
   * or on the listener `listener` that listen() opened for it.
   */
  endpointOf(deviceId: string, listener: string = ProxyPool.MAIN_LISTENER): string {
    const w = this.workers[this.shardOfDevice(deviceId)] as WorkerHandle;
    const op = this.o.devices.get(deviceId) as string;
    const url = listener === ProxyPool.MAIN_LISTENER ? w.endpoints[op] : w.listeners.get(listener)?.[op];
    if (url === undefined) {
      if (listener === ProxyPool.MAIN_LISTENER) throw new Error(`proxy pool: no endpoint for ${deviceId}`);
      throw new VigilError('VIGIL_USAGE', `proxy pool: no listener "${listener}" for ${deviceId}`, 'open it with listen() for the device first');
    }
    return url;
  }

  /**
   * Opens a second address for these devices: in each worker holding some of them, one more proxy
   * per operator of theirs, under `listener` (the same operator path to the same broker). Resolves
   * once every such worker listens; then endpointOf(device, listener) is its URL. The faults active
   * on all listeners (apply without `on`) are applied to the new proxies too. Opening the same
   * listener again for more devices adds what is missing.
   */
  async listen(listener: string, deviceIds: readonly string[]): Promise<void> {
    this.usable();
    if (listener === ProxyPool.MAIN_LISTENER) throw new VigilError('VIGIL_USAGE', 'proxy pool: a listener needs a name', 'name the listener (e.g. the endpoint move fault)');
    const byShard = this.byShard(deviceIds);
    await Promise.all(
      [...byShard].map(async ([shard, ids]) => {
        const w = this.workers[shard] as WorkerHandle;
        const operators = [...new Set(ids.map((id) => this.o.devices.get(id) as string))].sort();
        const r = await this.request(w, (req) => ({ t: 'listen', req, listener, operators }));
        if (r.t !== 'listening') return;
        if (r.error !== undefined) throw new VigilError('VIGIL_USAGE', `operator proxy worker ${shard} (pid ${w.pid}) could not open listener "${listener}": ${r.error}`, 'check free loopback ports and file descriptors');
        w.listeners.set(listener, { ...w.listeners.get(listener), ...r.endpoints });
        // Faults on every listener of a device reach the new proxies too.
        for (const [faultId, f] of this.faults) {
          if (f.on !== undefined) continue;
          const mine = [...f.devices].filter((id) => this.shardOf.get(id) === shard);
          if (mine.length > 0) w.send({ t: 'apply', faultId, effect: f.effect, deviceIds: mine, on: listener });
        }
      }),
    );
  }

  /** The run's clock, from the start of its timeline: the workers' virtual time from now on. */
  setClock(triple: ClockTriple): void {
    if (!(triple.speed > 0) || !Number.isFinite(triple.speed)) {
      throw new VigilError('VIGIL_USAGE', `proxy pool: clock speed ${triple.speed}`, 'give a clock whose speed is a finite number > 0');
    }
    this.usable();
    for (const w of this.workers) w.send({ t: 'clock', triple: { startVirtual: triple.startVirtual, startReal: triple.startReal, speed: triple.speed } });
  }

  /**
   * Applies an effect under an id to these devices, in their shards' proxies (see
   * OperatorProxy.apply): on every listener of theirs, or only on listener `on` (MAIN_LISTENER: the
   * main one). Its heals follow it to the same proxies.
   */
  apply(faultId: string, effect: FaultEffect, deviceIds: readonly string[], on?: string): void {
    this.usable();
    validateEffect(faultId, effect);
    const had = this.faults.get(faultId);
    if (had !== undefined && !sameEffect(had.effect, effect)) {
      throw new VigilError('VIGIL_USAGE', `fault ${faultId} already carries ${had.effect.kind} with other parameters`, 'use one fault id per effect, or heal it before reusing the id');
    }
    if (had !== undefined && had.on !== on) {
      throw new VigilError('VIGIL_USAGE', `fault ${faultId} is already applied on ${had.on === undefined ? 'every listener' : `listener "${had.on}"`}`, 'use one fault id per listener, or heal it before reusing the id');
    }
    const byShard = this.byShard(deviceIds);
    if (on !== undefined && on !== ProxyPool.MAIN_LISTENER) for (const id of deviceIds) this.endpointOf(id, on);
    const fault = had ?? { effect: { ...effect }, devices: new Set<string>(), on };
    this.faults.set(faultId, fault);
    for (const id of deviceIds) fault.devices.add(id);
    for (const [shard, ids] of byShard) (this.workers[shard] as WorkerHandle).send(on === undefined ? { t: 'apply', faultId, effect, deviceIds: ids } : { t: 'apply', faultId, effect, deviceIds: ids, on });
  }

  /** Heals the effect for these devices (all of the fault's devices when omitted). */
  heal(faultId: string, deviceIds?: readonly string[]): void {
    this.usable();
    const fault = this.faults.get(faultId);
    if (fault === undefined) return;
    const ids = deviceIds ?? [...fault.devices];
    const on = fault.on === undefined ? {} : { on: fault.on };
    for (const [shard, mine] of this.byShard(ids.filter((id) => this.shardOf.has(id)))) {
      (this.workers[shard] as WorkerHandle).send({ t: 'heal', faultId, deviceIds: deviceIds === undefined ? undefined : mine, ...on });
    }
    for (const id of ids) fault.devices.delete(id);
    if (fault.devices.size === 0) this.faults.delete(faultId);
  }

  /** Heals every fault in every worker; resolves once each confirmed (rejects when a worker is dead, after healing the others). */
  async healAll(): Promise<void> {
    this.faults.clear();
    await Promise.all(this.live().map((w) => this.request(w, (req) => ({ t: 'healAll', req }))));
    this.usable();
  }

  /** Per operator, summed over shards (byFault merged). */
  async stats(): Promise<Record<string, ProxyStats>> {
    return (await this.snapshot()).stats;
  }

  /** Per event type, summed over operators and shards. */
  async eventCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const counts of Object.values((await this.snapshot()).events)) for (const [k, v] of Object.entries(counts)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** Stats and event counts in one round trip. */
  async snapshot(): Promise<PoolSnapshot> {
    this.usable();
    const replies = await Promise.all(this.workers.map((w) => this.request(w, (req) => ({ t: 'stats', req }))));
    const parts = new Map<string, WireStats[]>();
    const events: Record<string, Record<string, number>> = {};
    const workers: WorkerHealth[] = [];
    for (const r of replies) {
      if (r.t !== 'stats') continue;
      workers.push(r.health);
      for (const [op, s] of Object.entries(r.stats)) {
        let list = parts.get(op);
        if (list === undefined) parts.set(op, (list = []));
        list.push(s);
      }
      for (const [op, counts] of Object.entries(r.events)) {
        const mine = (events[op] ??= {});
        for (const [k, v] of Object.entries(counts)) mine[k] = (mine[k] ?? 0) + v;
      }
    }
    const stats = Object.fromEntries([...parts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([op, list]) => [op, sumStats(list)]));
    return { stats, events, workers };
  }

  /** Heals, closes every proxy and waits for the workers to exit (SIGKILL after a timeout). Never rejects; idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.workers.map((w) => this.closeWorker(w))).then(() => undefined);
    return this.closing;
  }

  private async closeWorker(w: WorkerHandle): Promise<void> {
    w.closing = true;
    if (w.exitedAlready) return;
    const timeoutMs = this.o.replyTimeoutMs ?? 10_000;
    const killer = setTimeout(() => w.child.kill('SIGKILL'), timeoutMs);
    try {
      if (w.child.connected) await this.request(w, (req) => ({ t: 'close', req })).catch(() => {});
      // A process that never started has no exit to wait for.
      await Promise.race([w.exited, new Promise((r) => setTimeout(r, timeoutMs + 2000).unref())]);
    } finally {
      clearTimeout(killer);
    }
  }

  private live(): WorkerHandle[] {
    return this.workers.filter((w) => !w.exitedAlready);
  }

  private usable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closing !== undefined) throw new VigilError('VIGIL_USAGE', 'proxy pool: used after close()', 'close the pool last');
  }

  private byShard(deviceIds: readonly string[]): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const id of deviceIds) {
      const shard = this.shardOfDevice(id);
      let list = out.get(shard);
      if (list === undefined) out.set(shard, (list = []));
      list.push(id);
    }
    return out;
  }

  private request(w: WorkerHandle, make: (req: number) => ToWorker): Promise<FromWorker> {
    if (w.exitedAlready || !w.child.connected) return Promise.reject(this.failure ?? this.deathError(w, 'has exited'));
    const req = this.nextReq++;
    const timeoutMs = this.o.replyTimeoutMs ?? 10_000;
    return new Promise<FromWorker>((resolve, reject) => {
      const timer = setTimeout(() => {
        w.pending.delete(req);
        const err = this.deathError(w, `did not answer within ${timeoutMs} ms`);
        if (!w.closing) this.fail(err);
        reject(err);
      }, timeoutMs);
      w.pending.set(req, { resolve, reject, timer });
      w.send(make(req));
    });
  }
}

function tail(w: WorkerHandle): string {
  const t = w.stderrTail;
  return t === '' ? '' : `; its last output:\n${t}`;
}

function sameEffect(a: FaultEffect, b: FaultEffect): boolean {
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  const keys = Object.keys(ra);
  return keys.length === Object.keys(rb).length && keys.every((k) => ra[k] === rb[k]);
}
