/**
 * `--workers N`: the fleet split over N worker processes (sim/fleet-worker.ts), each a `Fleet` of
 * every N-th planned device with its own event loop and its own connections — for fleets one event
 * loop cannot carry (issue 7). The parent keeps what the run needs of every device:
 *
 *   - every record, in each device's seq order, streamed back (the oracle and the journal see the
 *     same records as in one process: the device model is pure and seeded, so which records a device
 *     makes depends on virtual time alone, not on the process it runs in — hence the same ledger);
 *   - each device's highest seq made (from those records) and acknowledged (from the shards'
 *     periodic state), for the drain watches of process faults;
 *   - the fleet's counters, summed, and its records sent / resent / stored per virtual minute
 *     (sim/record-minutes.ts), summed minute by minute.
 *
 * What a shard cannot do here: follow an endpoint move (a device's broker URL is fixed at start) or
 * skew a device's clock — the runner refuses those faults with --workers > 1.
 *
 * IPC: structured clone ('advanced' serialization: records carry no class instances, but the plan
 * does have Infinity and nested arrays), one message per shard per flush (FLUSH_MS), not per record.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClockTriple } from '../protocol/clock.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import type { PlannedDevice } from './model/fleet-plan.ts';
import type { DeliveryMode, DeviceProgress, FleetStats } from './fleet.ts';
import { FLEET_REDIAL_RATE_PER_S } from './transport/backoff.ts';
import { sumRecordMinutes, type RecordMinuteCounts } from './record-minutes.ts';
import type { DeviceLogin } from './transport/link.ts';

const WORKER_FILE = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What a shard is given: its devices, and how the fleet runs them. */
export interface ShardInit {
  readonly devices: readonly PlannedDevice[];
  /** The broker URL each of these devices dials (fixed for the run). */
  readonly endpoints: readonly string[];
  readonly modes: readonly DeliveryMode[];
  readonly seed: number;
  /** Virtual start and end of the timeline (createFirmware, stopRecordingAfter). */
  readonly start: number;
  readonly end: number;
  /** The run's speed: the firmwares' timing (sim/model/defaults.ts deviceConfigForSpeed). */
  readonly speed: number;
  readonly keepaliveS: number;
  readonly connectRatePerS: number;
  /** This shard's share of the fleet's redial rate (sim/transport/backoff.ts). */
  readonly redialRatePerS: number;
  readonly link?: 'mqttjs' | 'lean';
  readonly login?: DeviceLogin | undefined;
}

export type ToShard =
  | { readonly t: 'init'; readonly init: ShardInit }
  | { readonly t: 'connect'; readonly timeoutMs: number }
  | { readonly t: 'run'; readonly clock: ClockTriple }
  | { readonly t: 'stop-recording'; readonly after: number }
  | { readonly t: 'reconnect-all' }
  /** Flush every record made so far, then answer 'synced'. */
  | { readonly t: 'sync'; readonly id: number }
  | { readonly t: 'progress' }
  | { readonly t: 'close' };

export type FromShard =
  | { readonly t: 'ready' }
  | { readonly t: 'records'; readonly records: readonly UplinkRecord[] }
  /**
   * Counters, records per minute (a few hundred numbers: whole, not deltas, so a lost or late state
   * cannot skew them), and [index in the shard, acked seq] of each device whose ack moved since the last state.
   */
  | { readonly t: 'state'; readonly stats: FleetStats; readonly minutes: RecordMinuteCounts | undefined; readonly pending: number; readonly acked: readonly (readonly [number, number])[] }
  | { readonly t: 'synced'; readonly id: number }
  | { readonly t: 'progress'; readonly devices: readonly DeviceProgress[] }
  | { readonly t: 'link-error'; readonly deviceId: string; readonly message: string }
  | { readonly t: 'error'; readonly message: string };

/** A device as the parent sees it: live, from the shards' reports. */
export interface DeviceView {
  readonly deviceId: string;
  lastSeq: number;
  ackedSeq: number;
}

export interface ShardedFleetOptions extends Omit<ShardInit, 'devices' | 'endpoints' | 'modes' | 'redialRatePerS'> {
  readonly workers: number;
  readonly devices: readonly PlannedDevice[];
  readonly endpoints: readonly string[];
  readonly modes: readonly DeliveryMode[];
  readonly onRecord: (r: UplinkRecord) => void;
  readonly onLinkError?: (deviceId: string, err: Error) => void;
}

interface Shard {
  readonly child: ChildProcess;
  /** Global slot of each of the shard's devices. */
  readonly slots: number[];
  stats: FleetStats;
  minutes: RecordMinuteCounts | undefined;
  pending: number;
  exited: boolean;
}

const ZERO: FleetStats = { connected: 0, connects: 0, disconnects: 0, publishes: 0, acks: 0, linkErrors: 0, reconnects: 0, stored: 0, wakeLagMaxMs: 0 };

export class ShardedFleet {
  /** Every device, in plan order. */
  readonly views: DeviceView[];
  private readonly shards: Shard[] = [];
  /** Outstanding sync requests, by id: the shard asked, and what to call once it answered (or died). */
  private readonly waiting = new Map<number, { readonly shard: Shard; readonly done: () => void }>();
  private progressReplies: ((d: readonly DeviceProgress[]) => void)[][] = [];
  private nextId = 1;

  private constructor(private readonly o: ShardedFleetOptions) {
    this.views = o.devices.map((d) => ({ deviceId: d.deviceId, lastSeq: 0, ackedSeq: 0 }));
  }

  /** Forks the shards and hands each its devices: slot s goes to shard s mod N, so each gets the same mix. */
  static async start(o: ShardedFleetOptions): Promise<ShardedFleet> {
    const fleet = new ShardedFleet(o);
    const slotOf = new Map(o.devices.map((d, i) => [d.deviceId, i]));
    const onRecord = (r: UplinkRecord): void => {
      const v = fleet.views[slotOf.get(r.device) ?? -1];
      if (v) v.lastSeq = r.seq;
      o.onRecord(r);
    };
    try {
      await Promise.all(Array.from({ length: o.workers }, (_, k) => fleet.startShard(k, onRecord)));
    } catch (err) {
      await fleet.close();
      throw err;
    }
    return fleet;
  }

  private startShard(k: number, onRecord: (r: UplinkRecord) => void): Promise<void> {
    const { o } = this;
    const slots = o.devices.map((_, i) => i).filter((i) => i % o.workers === k);
    const child = fork(WORKER_FILE, [], { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    const shard: Shard = { child, slots, stats: { ...ZERO }, minutes: undefined, pending: 0, exited: false };
    this.shards.push(shard);
    return new Promise((resolve, reject) => {
      child.on('exit', (code, signal) => {
        shard.exited = true;
        reject(new Error(`fleet worker ${k} exited (${signal ?? `code ${String(code)}`}) before it was ready`));
        // A shard gone mid-run: nothing more to wait for from it (the others still answer).
        for (const w of [...this.waiting.values()]) if (w.shard === shard) w.done();
      });
      child.on('message', (m: FromShard) => {
        switch (m.t) {
          case 'ready':
            resolve();
            return;
          case 'error':
            reject(new Error(`fleet worker ${k}: ${m.message}`));
            return;
          case 'records':
            for (const r of m.records) onRecord(r);
            return;
          case 'state':
            shard.stats = m.stats;
            shard.minutes = m.minutes;
            shard.pending = m.pending;
            for (const [i, acked] of m.acked) {
              const v = this.views[slots[i] ?? -1];
              if (v) v.ackedSeq = acked;
            }
            return;
          case 'synced':
            this.waiting.get(m.id)?.done();
            return;
          case 'progress': {
            const reply = this.progressReplies[k]?.shift();
            reply?.(m.devices);
            return;
          }
          case 'link-error':
            o.onLinkError?.(m.deviceId, new Error(m.message));
            return;
        }
      });
      this.send(shard, {
        t: 'init',
        init: {
          devices: slots.map((s) => o.devices[s] as PlannedDevice), endpoints: slots.map((s) => o.endpoints[s] as string),
          modes: slots.map((s) => o.modes[s] ?? 'store-and-forward'), seed: o.seed, start: o.start, end: o.end, speed: o.speed,
          keepaliveS: o.keepaliveS, connectRatePerS: o.connectRatePerS / o.workers,
          redialRatePerS: FLEET_REDIAL_RATE_PER_S / o.workers, ...(o.link ? { link: o.link } : {}),
        },
      });
    });
  }

  private send(shard: Shard, m: ToShard): void {
    if (!shard.exited && shard.child.connected) shard.child.send(m);
  }

  private all(m: ToShard): void {
    for (const s of this.shards) this.send(s, m);
  }

  get stats(): FleetStats {
    const sum = { ...ZERO };
    for (const s of this.shards) for (const k of Object.keys(sum) as (keyof FleetStats)[]) sum[k] += s.stats[k];
    // The fleet's lag is a max over its shards, not a sum.
    sum.wakeLagMaxMs = Math.max(0, ...this.shards.map((s) => s.stats.wakeLagMaxMs));
    return sum;
  }

  /** Records sent, resent and stored per virtual minute, summed over the shards (as of their last state). */
  get recordMinutes(): RecordMinuteCounts | undefined {
    return sumRecordMinutes(this.shards.flatMap((s) => (s.minutes ? [s.minutes] : [])));
  }

  get pending(): number {
    return this.shards.reduce((n, s) => n + s.pending, 0);
  }

  /** As Fleet.connect: resolves with the fleet's connected count once all are up or the time is over. */
  connect(timeoutMs: number): Promise<number> {
    this.all({ t: 'connect', timeoutMs });
    const started = Date.now();
    return new Promise((resolve) => {
      const check = setInterval(() => {
        const n = this.stats.connected;
        if (n >= this.views.length || Date.now() - started >= timeoutMs) {
          clearInterval(check);
          resolve(n);
        }
      }, 50);
    });
  }

  run(clock: ClockTriple): void {
    this.all({ t: 'run', clock });
  }

  stopRecordingAfter(t: number): void {
    this.all({ t: 'stop-recording', after: t });
  }

  reconnectAll(): void {
    this.all({ t: 'reconnect-all' });
  }

  /** Resolves once every record the shards made so far has reached onRecord. */
  async sync(): Promise<void> {
    await Promise.all(this.shards.map((s) => {
      const id = this.nextId++;
      return new Promise<void>((resolve) => {
        if (s.exited) return resolve();
        this.waiting.set(id, {
          shard: s,
          done: () => {
            this.waiting.delete(id);
            resolve();
          },
        });
        this.send(s, { t: 'sync', id });
      });
    }));
  }

  /** Every device's progress, in plan order. */
  async progress(): Promise<DeviceProgress[]> {
    const out: DeviceProgress[] = new Array(this.views.length);
    await Promise.all(this.shards.map((s, k) => new Promise<void>((resolve) => {
      if (s.exited) return resolve();
      (this.progressReplies[k] ??= []).push((devices) => {
        devices.forEach((d, i) => (out[s.slots[i] as number] = d));
        resolve();
      });
      this.send(s, { t: 'progress' });
    })));
    // A shard that died: its devices as the parent last saw them, nothing pending known.
    return out.map((d, i) => d ?? { deviceId: (this.views[i] as DeviceView).deviceId, lastSeq: (this.views[i] as DeviceView).lastSeq, ackedSeq: (this.views[i] as DeviceView).ackedSeq, pendingSeqs: [], evicted: 0, resent: 0 });
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => new Promise<void>((resolve) => {
      if (s.exited) return resolve();
      const killer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
      s.child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      this.send(s, { t: 'close' });
      if (!s.child.connected) s.child.kill('SIGKILL');
    })));
  }
}
