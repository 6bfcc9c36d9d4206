/**
 * What the proxy pool (proxy-pool.ts) and its worker processes (proxy-worker.ts) say to each other
 * over the fork IPC channel (JSON), and the helpers both sides share: stats that cross the channel
 * (a Map does not survive JSON) and their sum over shards, and the cheap read of an uplink batch's
 * last record.
 */
import type { ClockTriple } from '../../protocol/clock.ts';
import type { FaultEffect, FaultStats } from './effects.ts';
import type { NetworkEvent, ProxyStats } from './events.ts';

/** ProxyStats with byFault as entries. */
export type WireStats = Omit<ProxyStats, 'byFault'> & { readonly byFault: readonly (readonly [string, FaultStats])[] };

export interface WorkerInit {
  readonly shard: number;
  readonly upstream: { readonly host: string; readonly port: number };
  readonly listenHost: string;
  readonly seed: number;
  /** This shard's devices: [deviceId, operator]. */
  readonly devices: readonly (readonly [string, string])[];
  /** This shard's devices whose forwarded uplinks are reported. */
  readonly watched: readonly string[];
  /** Event types sent to the parent; every type is counted. */
  readonly journaled: readonly string[];
  /** Real ms between two batches of forwarded reports / events. */
  readonly flushMs: number;
}

export type ToWorker =
  | { readonly t: 'init'; readonly init: WorkerInit }
  | { readonly t: 'clock'; readonly triple: ClockTriple }
  /**
   * Applies / heals on the devices' proxies: `on` names one listener ('' the original one, else a
   * listener opened by 'listen'); absent, every listener of the device's operator in the shard.
   */
  | { readonly t: 'apply'; readonly faultId: string; readonly effect: FaultEffect; readonly deviceIds: readonly string[]; readonly on?: string }
  | { readonly t: 'heal'; readonly faultId: string; readonly deviceIds: readonly string[] | undefined; readonly on?: string }
  /** Opens one more proxy per operator named, under a listener name (an endpoint move's new address). */
  | { readonly t: 'listen'; readonly req: number; readonly listener: string; readonly operators: readonly string[] }
  | { readonly t: 'healAll'; readonly req: number }
  | { readonly t: 'stats'; readonly req: number }
  | { readonly t: 'close'; readonly req: number };

/** How a worker process is doing, measured in it. */
export interface WorkerHealth {
  readonly shard: number;
  readonly pid: number;
  readonly devices: number;
  /** Event-loop delay since the previous report (or the start), real ms. */
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
  /** CPU time since the worker started, real ms. */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly rssBytes: number;
}

export type FromWorker =
  /** Listening: each operator's proxy URL in this shard. */
  | { readonly t: 'ready'; readonly endpoints: Readonly<Record<string, string>> }
  /** Forwarded uplinks of watched devices, flat: deviceId, at, seq, time, deviceId, at... */
  | { readonly t: 'fwd'; readonly items: readonly (string | number)[] }
  | { readonly t: 'events'; readonly events: readonly NetworkEvent[] }
  | { readonly t: 'done'; readonly req: number }
  /** A 'listen' answered: the new proxy URL of each operator named, or why it could not listen. */
  | { readonly t: 'listening'; readonly req: number; readonly endpoints: Readonly<Record<string, string>>; readonly error?: string }
  | {
      readonly t: 'stats';
      readonly req: number;
      readonly stats: Readonly<Record<string, WireStats>>;
      readonly events: Readonly<Record<string, Readonly<Record<string, number>>>>;
      readonly health: WorkerHealth;
    }
  /** Something the worker could not do (it carries on, or exits after saying so). */
  | { readonly t: 'error'; readonly message: string };

export function toWire(s: ProxyStats): WireStats {
  return { ...s, byFault: [...s.byFault] };
}

function addFault(a: FaultStats, b: FaultStats): FaultStats {
  const fakeReplies = { ...a.fakeReplies };
  for (const [k, v] of Object.entries(b.fakeReplies) as [keyof FaultStats['fakeReplies'], number][]) fakeReplies[k] = (fakeReplies[k] ?? 0) + v;
  return {
    kind: a.kind,
    devices: a.devices + b.devices,
    packetsForwarded: a.packetsForwarded + b.packetsForwarded,
    bytesForwarded: a.bytesForwarded + b.bytesForwarded,
    packetsDropped: a.packetsDropped + b.packetsDropped,
    bytesDropped: a.bytesDropped + b.bytesDropped,
    retransmits: a.retransmits + b.retransmits,
    fakeReplies,
    resets: a.resets + b.resets,
    stalls: a.stalls + b.stalls,
    natExpiries: a.natExpiries + b.natExpiries,
    healCloses: a.healCloses + b.healCloses,
  };
}

/** The sum of one operator's stats over its shards: counters add up, byFault maps merge by fault id. */
export function sumStats(parts: readonly WireStats[]): ProxyStats {
  const byFault = new Map<string, FaultStats>();
  const total: Record<string, number> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p)) if (typeof v === 'number') total[k] = (total[k] ?? 0) + v;
    for (const [id, f] of p.byFault) {
      const had = byFault.get(id);
      byFault.set(id, had === undefined ? f : addFault(had, f));
    }
  }
  return { ...(total as unknown as Omit<ProxyStats, 'byFault'>), byFault };
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const BRACKET = 0x5d; // ]

/**
 * seq and time of the last record of an uplink batch (`{"v":1,"records":[…]}`, protocol/uplink.ts),
 * or undefined when the payload is not one. Records are flat objects in seq order, so the last one
 * is the text between the last `{` and the `}` before the closing `]`: only that slice is parsed,
 * not the whole backlog batch. Falls back to a full parse when the slice is not a record of
 * `deviceId` (a string value holding a brace).
 */
export function lastRecordOf(deviceId: string, payload: Buffer): { seq: number; time: number } | undefined {
  const bracket = payload.lastIndexOf(BRACKET);
  const end = bracket < 0 ? -1 : payload.lastIndexOf(CLOSE, bracket);
  const start = end < 0 ? -1 : payload.lastIndexOf(OPEN, end);
  if (start > 0) {
    try {
      const r = JSON.parse(payload.toString('utf8', start, end + 1)) as { device?: unknown; seq?: unknown; time?: unknown };
      if (r.device === deviceId && typeof r.seq === 'number' && typeof r.time === 'number') return { seq: r.seq, time: r.time };
    } catch {
      // fall through to the full parse
    }
  }
  try {
    const body = JSON.parse(payload.toString('utf8')) as { records?: { seq?: unknown; time?: unknown }[] };
    const last = Array.isArray(body.records) ? body.records.at(-1) : undefined;
    if (typeof last?.seq !== 'number' || typeof last.time !== 'number') return undefined;
    return { seq: last.seq, time: last.time };
  } catch {
    return undefined;
  }
}
