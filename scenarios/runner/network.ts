/**
 * The run's operator network: one proxy per mobile operator in front of the broker, the scenario's
 * faults applied and healed on the virtual timeline, and what the proxies forward for the devices
 * the faults touch streamed into the silence tracker (verify/absence.ts). Every fault start and heal
 * is journaled; `healAll` runs in the run's teardown, so Ctrl-C or a crash of the run still heals.
 */
import { OperatorProxy, type FaultEffect, type NetworkEvent, type ProxyStats } from '../../sim/network/proxy.ts';
import { VigilError } from '../../protocol/errors.ts';
import type { SilenceTracker } from '../../verify/absence.ts';
import type { JournalEntry } from '../../verify/journal.ts';
import type { PlannedFault } from '../faults.ts';
import type { TimedNetworkFault } from '../schema.ts';

export interface NetworkOptions {
  readonly brokerUrl: string;
  readonly operators: readonly string[];
  readonly faults: readonly PlannedFault[];
  readonly operatorOf: ReadonlyMap<string, string>;
  readonly speed: number;
  readonly seed: number;
  readonly virtualNow: () => number;
  readonly tracker: SilenceTracker;
  /** The highest seq a device has made so far (its backlog at a heal). */
  readonly madeSeq: (deviceId: string) => number;
  readonly journal: (entry: JournalEntry) => void;
}

export function effectOf(f: TimedNetworkFault): FaultEffect {
  switch (f.kind) {
    case 'latency': return { kind: 'latency', delayMs: f.delay, jitterMs: f.jitter ?? 0 };
    case 'loss': return { kind: 'loss', rate: f.rate, retransmitMs: f.retransmit };
    case 'bandwidth': return { kind: 'bandwidth', bytesPerS: f.bytesPerSecond };
    case 'nat-idle': return { kind: 'nat-idle', idleMs: f.idle };
    case 'mtu': return { kind: 'mtu', maxBytes: f.maxBytes };
    default: return { kind: f.kind };
  }
}

/** Only these proxy events go to the journal: the ones a fault causes (a 15,000-device fleet opens 15,000 connections). */
const JOURNALED = new Set(['reset', 'black-holed', 'stall', 'nat-expired']);

export class RunNetwork {
  private readonly proxies = new Map<string, OperatorProxy>();
  private readonly urls = new Map<string, string>();
  /** Per fault: started? and the devices not yet healed, by heal time. */
  private readonly pending: { planned: PlannedFault; started: boolean; toHeal: [string, number][] }[];
  private readonly eventCounts = new Map<string, number>();

  constructor(private readonly o: NetworkOptions) {
    this.pending = o.faults.map((planned) => ({ planned, started: false, toHeal: [...planned.healAt].sort((a, b) => a[1] - b[1]) }));
    for (const p of o.faults) for (const [id, at] of p.healAt) o.tracker.expectHeal(p.fault.name, id, at);
  }

  async start(): Promise<void> {
    const u = new URL(this.o.brokerUrl);
    if (u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') {
      throw new VigilError('VIGIL_USAGE', `the operator network proxies plain MQTT; the broker is ${this.o.brokerUrl}`, 'use an mqtt:// broker URL for a scenario with faults');
    }
    const upstream = { host: u.hostname, port: Number(u.port || 1883) };
    const clock = { now: this.o.virtualNow, speed: this.o.speed };
    for (const operatorId of this.o.operators) {
      const proxy = new OperatorProxy({
        operatorId, upstream, clock, seed: this.o.seed,
        onUplinkForwarded: (deviceId, payload) => this.forwarded(deviceId, payload),
        onEvent: (e) => this.event(e),
      });
      const addr = await proxy.start();
      this.proxies.set(operatorId, proxy);
      this.urls.set(operatorId, `mqtt://${addr.host}:${addr.port}`);
    }
  }

  endpointOf(operator: string): string {
    const url = this.urls.get(operator);
    if (!url) throw new Error(`no proxy for operator ${operator}`);
    return url;
  }

  private forwarded(deviceId: string, payload: Buffer): void {
    if (!this.o.tracker.isWatched(deviceId)) return;
    // Only the last record of the batch matters (records in a batch are in seq order).
    const body = JSON.parse(payload.toString('utf8')) as { records?: { seq?: unknown; time?: unknown }[] };
    const last = body.records?.at(-1);
    if (typeof last?.seq !== 'number' || typeof last.time !== 'number') return;
    this.o.tracker.forwarded(deviceId, { at: this.o.virtualNow(), seq: last.seq, time: last.time });
  }

  private event(e: NetworkEvent): void {
    this.eventCounts.set(e.type, (this.eventCounts.get(e.type) ?? 0) + 1);
    if (JOURNALED.has(e.type)) this.o.journal({ t: 'network', ...e });
  }

  /** Applies and heals what is due by virtual `now`. */
  tick(now: number): void {
    for (const p of this.pending) {
      const f = p.planned.fault;
      if (!p.started && now >= f.from) {
        p.started = true;
        const effect = effectOf(f);
        for (const [op, proxy] of this.proxies) {
          const mine = p.planned.devices.filter((d) => this.o.operatorOf.get(d) === op);
          if (mine.length > 0) proxy.apply(f.name, effect, mine);
        }
        this.o.journal({ t: 'fault', event: 'start', at: now, fault: f.name, kind: f.kind, devices: p.planned.devices.length, effect });
      }
      if (!p.started) continue;
      let n = 0;
      while (n < p.toHeal.length && (p.toHeal[n] as [string, number])[1] <= now) n++;
      if (n === 0) continue;
      const healed = p.toHeal.splice(0, n).map(([id]) => id);
      this.healDevices(f.name, healed, now);
    }
  }

  private healDevices(fault: string, devices: readonly string[], now: number): void {
    for (const [op, proxy] of this.proxies) {
      const mine = devices.filter((d) => this.o.operatorOf.get(d) === op);
      if (mine.length > 0) proxy.heal(fault, mine);
    }
    for (const id of devices) {
      const w = this.o.tracker.heal(fault, id);
      if (w) w.need = this.o.madeSeq(id);
    }
    this.o.journal({ t: 'fault', event: 'heal', at: now, fault, devices });
  }

  /** Heals every fault now: the end of the timeline, an abort, or a crash. Idempotent. */
  healAll(now: number): void {
    for (const p of this.pending) {
      if (p.started && p.toHeal.length > 0) this.healDevices(p.planned.fault.name, p.toHeal.splice(0).map(([id]) => id), now);
      p.started = true;
      p.toHeal.length = 0;
    }
    for (const proxy of this.proxies.values()) proxy.healAll();
  }

  get stats(): Record<string, ProxyStats> {
    return Object.fromEntries([...this.proxies].map(([op, p]) => [op, p.stats]));
  }

  get events(): Record<string, number> {
    return Object.fromEntries(this.eventCounts);
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}
