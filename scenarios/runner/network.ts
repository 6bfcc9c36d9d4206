/**
 * The run's operator network: a proxy per mobile operator in front of the broker — run in worker
 * processes (sim/network/proxy-pool.ts), sharded so none passes the open-file limit at 15,000
 * devices — the scenario's faults applied and healed on the virtual timeline, and what the proxies
 * forward for the devices the faults touch streamed into the silence tracker (verify/absence.ts).
 * Every fault start and heal is journaled; `healAll` runs in the run's teardown, so Ctrl-C or a
 * failure of the run still heals (and the workers exit with their parent if Vigil is killed).
 */
import type { ClockTriple } from '../../protocol/clock.ts';
import type { FaultEffect, NetworkEvent, ProxyStats } from '../../sim/network/proxy.ts';
import { ProxyPool } from '../../sim/network/proxy-pool.ts';
import { VigilError } from '../../protocol/errors.ts';
import type { SilenceTracker } from '../../verify/absence.ts';
import type { JournalEntry } from '../../verify/journal.ts';
import type { PlannedFault } from '../faults.ts';
import type { TimedNetworkFault } from '../schema.ts';

export interface NetworkOptions {
  readonly brokerUrl: string;
  readonly faults: readonly PlannedFault[];
  readonly operatorOf: ReadonlyMap<string, string>;
  readonly seed: number;
  readonly tracker: SilenceTracker;
  /** The highest seq a device has made so far (its backlog at a heal). */
  readonly madeSeq: (deviceId: string) => number;
  readonly journal: (entry: JournalEntry) => void;
  /** A proxy worker died: the run goes on without that part of the network, and says so. */
  readonly log: (line: string) => void;
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

export class RunNetwork {
  private pool: ProxyPool | undefined;
  /** Per fault: started? and the devices not yet healed, by heal time. */
  private readonly pending: { planned: PlannedFault; started: boolean; toHeal: [string, number][] }[];

  constructor(private readonly o: NetworkOptions) {
    this.pending = o.faults.map((planned) => ({ planned, started: false, toHeal: [...planned.healAt].sort((a, b) => a[1] - b[1]) }));
    for (const p of o.faults) for (const [id, at] of p.healAt) o.tracker.expectHeal(p.fault.name, id, at);
  }

  async start(): Promise<void> {
    const u = new URL(this.o.brokerUrl);
    if (u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') {
      throw new VigilError('VIGIL_USAGE', `the operator network proxies plain MQTT; the broker is ${this.o.brokerUrl}`, 'use an mqtt:// broker URL for a scenario with faults');
    }
    this.pool = await ProxyPool.start({
      upstream: { host: u.hostname, port: Number(u.port || 1883) },
      devices: this.o.operatorOf, seed: this.o.seed, watched: this.o.tracker.watched,
      // The pool journals only the events a fault causes (reset, black-holed, stall, nat-expired).
      onForwarded: (deviceId, at, seq, time) => this.o.tracker.forwarded(deviceId, { at, seq, time }),
      onEvent: (e: NetworkEvent) => this.o.journal({ t: 'network', ...e }),
      onError: (err) => this.o.log(`operator network: ${err.message}`),
    });
  }

  /** From the timeline's start, fault parameters and event times are in the run's virtual time. */
  setClock(triple: ClockTriple): void {
    this.pool?.setClock(triple);
  }

  endpointOf(deviceId: string): string {
    if (!this.pool) throw new Error('operator network not started');
    return this.pool.endpointOf(deviceId);
  }

  /** Applies and heals what is due by virtual `now`. */
  tick(now: number): void {
    for (const p of this.pending) {
      const f = p.planned.fault;
      if (!p.started && now >= f.from) {
        p.started = true;
        const effect = effectOf(f);
        this.pool?.apply(f.name, effect, p.planned.devices);
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
    this.pool?.heal(fault, devices);
    for (const id of devices) {
      const w = this.o.tracker.heal(fault, id);
      if (w) w.need = this.o.madeSeq(id);
    }
    this.o.journal({ t: 'fault', event: 'heal', at: now, fault, devices });
  }

  /** Heals every fault now: the end of the timeline, an abort, or a crash. Idempotent. */
  async healAll(now: number): Promise<void> {
    for (const p of this.pending) {
      if (p.started && p.toHeal.length > 0) this.healDevices(p.planned.fault.name, p.toHeal.splice(0).map(([id]) => id), now);
      p.started = true;
      p.toHeal.length = 0;
    }
    await this.pool?.healAll();
  }

  /** Per operator, summed over the shards; and every connection event type counted. */
  async report(): Promise<{ proxies: Record<string, ProxyStats>; events: Record<string, number> }> {
    if (!this.pool) return { proxies: {}, events: {} };
    return { proxies: await this.pool.stats(), events: await this.pool.eventCounts() };
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
