/**
 * The operator network between devices and the broker: one MQTT-aware TCP proxy per mobile
 * operator, injecting faults per device (DESIGN.md "Faults (sim/network)", DOMAIN.md "How a
 * network change breaks IoT devices"). A connection belongs to a device once its CONNECT names it
 * (client id = device id); until then nothing is known and it is passed through.
 *
 * Choices where the real network leaves room:
 * - ack-then-lose healed: the device's connections are closed (destroyed), so it reconnects through
 *   the healed path and resends what its firmware still holds — after the 2021 fix devices
 *   reconnected progressively. The broker side of such a connection may have timed out meanwhile.
 * - black-hole healed: a connection that lost even one byte (or the broker's FIN) stays silent until
 *   the device closes it — its MQTT stream is broken, the device's keepalive notices and it
 *   reconnects. A connection that lost nothing in the window resumes.
 * - A lost NAT mapping and an MTU stall last until the connection closes, healed or not: the
 *   mapping is gone, the oversized segment is still being retransmitted.
 * - Bytes already in a delay line when a black hole starts still arrive (they were on the wire).
 * - The broker's side of a silenced connection (black hole, ack-then-lose, lost NAT mapping) is
 *   kept until the device closes, then destroyed; a clean device close is passed on as a FIN.
 * - refuse / partition reset a new connection once its CONNECT is read: before that the proxy
 *   cannot tell whose it is. The broker never hears of it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { VigilError } from '../../protocol/errors.ts';
import { rng } from '../model/random.ts';
import { Connection, type ConnectionHost } from './connection.ts';
import { NO_EFFECT, composePolicy, newFaultStats, validateEffect, type Fault, type FaultEffect, type Policy } from './effects.ts';
import { newProxyStats, type MutableProxyStats, type NetworkEvent, type NetworkEventDetail, type ProxyStats } from './events.ts';

export type { FaultEffect, FaultKind, FaultStats } from './effects.ts';
export type { CloseReason, NetworkEvent, NetworkEventDetail, ProxyStats } from './events.ts';

export interface VirtualTime {
  /** Virtual ms now. */
  now(): number;
  /** Virtual s per real s: a virtual-ms parameter lasts virtual / speed real ms. */
  readonly speed: number;
}

export interface ProxyOptions {
  readonly operatorId: string;
  /** The broker. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** Default 127.0.0.1. */
  readonly listenHost?: string;
  /** Default 0 (ephemeral). */
  readonly listenPort?: number;
  readonly clock: VirtualTime;
  /** Seeds loss and jitter draws. Default 0. */
  readonly seed?: number;
  /**
   * Every uplink PUBLISH (topic ending /up) forwarded upstream, with the connection's device id.
   * O(1): `payload` is a view into the proxy's buffer, valid during the call — copy to keep.
   */
  readonly onUplinkForwarded?: (deviceId: string, payload: Buffer) => void;
  /** Connection-level facts worth journaling (open, close, resets, stalls, NAT expiries, fake replies...). */
  readonly onEvent?: (e: NetworkEvent) => void;
}

function sameEffect(a: FaultEffect, b: FaultEffect): boolean {
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  const keys = Object.keys(ra);
  return keys.length === Object.keys(rb).length && keys.every((k) => ra[k] === rb[k]);
}

export class OperatorProxy {
  private readonly server: Server;
  private readonly s: MutableProxyStats = newProxyStats();
  private readonly faults = new Map<string, Fault>();
  /** Each device's active faults, in the order they were applied. */
  private readonly deviceFaults = new Map<string, Map<string, Fault>>();
  private readonly policies = new Map<string, Policy>();
  private readonly byDevice = new Map<string, Set<Connection>>();
  private readonly connections = new Set<Connection>();
  private readonly host: ConnectionHost;
  private nextConnId = 1;
  private closing = false;

  constructor(private readonly opts: ProxyOptions) {
    if (!(opts.clock.speed > 0) || !Number.isFinite(opts.clock.speed)) {
      throw new VigilError('VIGIL_USAGE', `operator ${opts.operatorId}: clock speed ${opts.clock.speed}`, 'give the proxy a clock whose speed is a finite number > 0');
    }
    const random = rng(opts.seed ?? 0, 'network', opts.operatorId);
    const stats = this.s;
    const onUplink = opts.onUplinkForwarded;
    this.host = {
      upstream: opts.upstream,
      stats,
      // Read at use: a clock whose speed is set later (the proxy pool's workers, ProxyPool.setClock).
      get speed() {
        return opts.clock.speed;
      },
      onUplink:
        onUplink === undefined
          ? undefined
          : (deviceId, payload) => {
              try {
                onUplink(deviceId, payload);
              } catch {
                stats.callbackErrors++;
              }
            },
      emit: (conn, e) => this.emit(conn, e),
      identify: (conn) => this.identify(conn),
      forget: (conn) => this.forget(conn),
      random: () => random.next(),
      realNow: () => performance.now(),
    };
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  get stats(): ProxyStats {
    return this.s;
  }

  async start(): Promise<{ host: string; port: number }> {
    const host = this.opts.listenHost ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // A reconnect stampede after a reset storm: queue thousands of SYNs rather than drop them.
      this.server.listen({ port: this.opts.listenPort ?? 0, host, backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', () => {}); // after listen: accept errors (EMFILE...) must not crash the fleet
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error(`operator ${this.opts.operatorId}: proxy has no TCP address`);
    return { host, port: address.port };
  }

  /** Applies an effect, under an id, to these device ids (a device may carry several effects at once; they compose). */
  apply(faultId: string, effect: FaultEffect, deviceIds: Iterable<string>): void {
    validateEffect(faultId, effect);
    let fault = this.faults.get(faultId);
    if (fault !== undefined && !sameEffect(fault.effect, effect)) {
      throw new VigilError('VIGIL_USAGE', `fault ${faultId} already carries ${fault.effect.kind} with other parameters`, 'use one fault id per effect, or heal it before reusing the id');
    }
    if (fault === undefined) {
      const kept = this.s.byFault.get(faultId);
      const stats = kept?.kind === effect.kind ? kept : newFaultStats(effect.kind);
      fault = { id: faultId, effect, devices: new Set(), stats };
      this.faults.set(faultId, fault);
      this.s.byFault.set(faultId, stats);
    }
    for (const d of deviceIds) {
      fault.devices.add(d);
      let mine = this.deviceFaults.get(d);
      if (mine === undefined) this.deviceFaults.set(d, (mine = new Map()));
      mine.set(faultId, fault);
      this.refresh(d);
      if (effect.kind === 'reset' || effect.kind === 'partition') {
        for (const conn of [...(this.byDevice.get(d) ?? [])]) conn.reset(fault, effect.kind);
      }
    }
    fault.stats.devices = fault.devices.size;
  }

  /** Heals the effect for these devices (all of the fault's devices when omitted). */
  heal(faultId: string, deviceIds?: Iterable<string>): void {
    const fault = this.faults.get(faultId);
    if (fault === undefined) return;
    for (const d of deviceIds ?? [...fault.devices]) {
      if (!fault.devices.delete(d)) continue;
      const mine = this.deviceFaults.get(d);
      mine?.delete(faultId);
      if (mine?.size === 0) this.deviceFaults.delete(d);
      this.refresh(d);
    }
    fault.stats.devices = fault.devices.size;
    if (fault.devices.size === 0) this.faults.delete(faultId);
  }

  healAll(): void {
    for (const id of [...this.faults.keys()]) this.heal(id);
  }

  /** Closes the listener and every connection (no heal semantics: the run is over). */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of [...this.connections]) conn.close();
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.s.connectionsAccepted++;
    this.s.connectionsOpen++;
    const conn = new Connection(this.nextConnId++, socket, this.host);
    this.connections.add(conn);
    this.emit(conn, { type: 'open' });
  }

  /** Recomputes a device's policy and hands it to its connections. */
  private refresh(deviceId: string): void {
    const mine = this.deviceFaults.get(deviceId);
    const policy = mine === undefined ? NO_EFFECT : composePolicy(mine.values(), this.opts.clock.speed);
    if (policy === NO_EFFECT) this.policies.delete(deviceId);
    else this.policies.set(deviceId, policy);
    for (const conn of [...(this.byDevice.get(deviceId) ?? [])]) {
      const was = conn.policy.ackThenLose;
      conn.policy = policy;
      if (was !== undefined && policy.ackThenLose === undefined) conn.closeAfterHeal(was);
    }
  }

  private identify(conn: Connection): Policy {
    const id = conn.deviceId!;
    let set = this.byDevice.get(id);
    if (set === undefined) this.byDevice.set(id, (set = new Set()));
    set.add(conn);
    return this.policies.get(id) ?? NO_EFFECT;
  }

  private forget(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    this.s.connectionsOpen--;
    if (conn.deviceId === undefined) return;
    const set = this.byDevice.get(conn.deviceId);
    set?.delete(conn);
    if (set?.size === 0) this.byDevice.delete(conn.deviceId);
  }

  private emit(conn: Connection, e: NetworkEventDetail): void {
    const on = this.opts.onEvent;
    if (on === undefined) return;
    try {
      on({ at: this.opts.clock.now(), operatorId: this.opts.operatorId, connId: conn.id, deviceId: conn.deviceId, ...e });
    } catch {
      this.s.callbackErrors++;
    }
  }
}
