/**
 * The run's operator network: a proxy per mobile operator in front of the broker — run in worker
 * processes (sim/network/proxy-pool.ts), sharded so none passes the open-file limit at 15,000
 * devices — the scenario's faults applied and healed on the virtual timeline, and what the proxies
 * forward for the devices the faults touch streamed into the silence tracker (verify/absence.ts).
 * Every fault start and heal is journaled; `healAll` runs in the run's teardown, so Ctrl-C or a
 * failure of the run still heals (and the workers exit with their parent if Vigil is killed).
 *
 * An endpoint move: its new address (a listener of the pool named after the fault) is opened
 * before the timeline, as a migration stands the new endpoint up before DNS changes; at `from` its
 * devices are partitioned on the old address only, and endpointOf(device) answers the new URL once
 * the device's DNS moment has passed on the virtual clock (unless the old address served it again
 * first). Each batch of devices learning the new address is journaled (`event: 'dns'`).
 */
import { virtualClock, type Clock, type ClockTriple } from '../../protocol/clock.ts';
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
  /**
   * Every device through the proxies (`network.proxy`, or a process fault: then every device is
   * watched). Otherwise only the devices a fault targets are: see `endpointOf`.
   */
  readonly routeAll: boolean;
}

export function effectOf(f: TimedNetworkFault): FaultEffect {
  switch (f.kind) {
    case 'latency': return { kind: 'latency', delayMs: f.delay, jitterMs: f.jitter ?? 0 };
    case 'loss': return { kind: 'loss', rate: f.rate, retransmitMs: f.retransmit };
    case 'bandwidth': return { kind: 'bandwidth', bytesPerS: f.bytesPerSecond };
    case 'nat-idle': return { kind: 'nat-idle', idleMs: f.idle };
    case 'mtu': return { kind: 'mtu', maxBytes: f.maxBytes };
    // What the old address does to the moving devices (their new one serves them).
    case 'endpoint-move': return { kind: 'partition' };
    case 'clock-skew': throw new Error('clock-skew is a device fault (scenarios/runner/device-faults.ts), not a network effect');
    default: return { kind: f.kind };
  }
}

export class RunNetwork {
  private pool: ProxyPool | undefined;
  /** Per fault: started? and the devices not yet healed, by heal time. */
  private readonly pending: { planned: PlannedFault; started: boolean; toHeal: [string, number][]; toMove: [string, number][] }[];
  /** Per device, its endpoint moves: the listener (fault name) and when it learns it. */
  private readonly moves = new Map<string, { listener: string; at: number }[]>();
  private clock: Clock | undefined;
  /** The devices some fault targets (when not routeAll): only they dial a proxy. */
  private readonly routed = new Set<string>();

  constructor(private readonly o: NetworkOptions) {
    // Clock-skewed devices too: the proxies watch what those devices send (their absence episodes).
    for (const p of o.faults) for (const id of p.devices) this.routed.add(id);
    // A clock skew is the devices' (device-faults.ts): the proxies only watch what those devices send.
    this.pending = o.faults.filter((planned) => planned.fault.kind !== 'clock-skew').map((planned) => {
      // A device whose DNS moment comes after its heal never moves: the old address serves it again.
      const toMove = [...(planned.dnsAt ?? [])].filter(([id, at]) => at < (planned.healAt.get(id) ?? Infinity)).sort((a, b) => a[1] - b[1]);
      for (const [id, at] of toMove) {
        const list = this.moves.get(id);
        const m = { listener: planned.fault.name, at };
        if (list) list.push(m);
        else this.moves.set(id, [m]);
      }
      return { planned, started: false, toHeal: [...planned.healAt].sort((a, b) => a[1] - b[1]), toMove };
    });
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
    for (const p of this.o.faults) if (p.fault.kind === 'endpoint-move') await this.pool.listen(p.fault.name, p.devices);
  }

  /** From the timeline's start, fault parameters and event times are in the run's virtual time. */
  setClock(triple: ClockTriple): void {
    this.clock = virtualClock(triple);
    this.pool?.setClock(triple);
  }

  /**
   * The URL a device dials now: its operator's proxy, or an endpoint move's new address once its DNS
   * moment has passed — or, for a device no fault targets (unless every device is routed), the broker
   * itself: an operator proxy with no fault is a pass-through, and forwarding every byte of 15,000
   * devices cost the proxy workers 40 % of a core in the 2021 replay at speed 64 (docs/PERFORMANCE.md).
   */
  endpointOf(deviceId: string): string {
    if (!this.pool) throw new Error('operator network not started');
    if (!this.o.routeAll && !this.routed.has(deviceId)) return this.o.brokerUrl;
    const moves = this.moves.get(deviceId);
    if (moves !== undefined && this.clock !== undefined) {
      const now = this.clock.now();
      let latest: { listener: string; at: number } | undefined;
      for (const m of moves) if (m.at <= now && (latest === undefined || m.at >= latest.at)) latest = m;
      if (latest !== undefined) return this.pool.endpointOf(deviceId, latest.listener);
    }
    return this.pool.endpointOf(deviceId);
  }

  /** Applies and heals what is due by virtual `now`. */
  tick(now: number): void {
    for (const p of this.pending) {
      const f = p.planned.fault;
      if (!p.started && now >= f.from) {
        p.started = true;
        const effect = effectOf(f);
        if (f.kind === 'endpoint-move') {
          // The old address only: the new one serves the moving devices.
          this.pool?.apply(f.name, effect, p.planned.devices, ProxyPool.MAIN_LISTENER);
          this.o.journal({ t: 'fault', event: 'start', at: now, fault: f.name, kind: f.kind, devices: p.planned.devices.length, effect, dnsTtl: f.dnsTtl });
        } else {
          this.pool?.apply(f.name, effect, p.planned.devices);
          this.o.journal({ t: 'fault', event: 'start', at: now, fault: f.name, kind: f.kind, devices: p.planned.devices.length, effect });
        }
      }
      if (!p.started) continue;
      let m = 0;
      while (m < p.toMove.length && (p.toMove[m] as [string, number])[1] <= now) m++;
      if (m > 0) this.o.journal({ t: 'fault', event: 'dns', at: now, fault: f.name, devices: p.toMove.splice(0, m).map(([id]) => id) });
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
      p.toMove.length = 0;
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
