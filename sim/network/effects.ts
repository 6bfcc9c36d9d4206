/**
 * Fault effects, their validation, and how several effects on one device compose into the one
 * Policy a connection reads on its hot path (a shared NO_EFFECT object when there is none).
 */
import { VigilError } from '../../protocol/errors.ts';
import type { FakeReply } from './replies.ts';

export type FaultEffect =
  /** TCP stays up, bytes vanish both ways; new connections accepted but never answered (2021). */
  | { kind: 'black-hole' }
  /** The operator gateway answers the device itself and forwards nothing. */
  | { kind: 'ack-then-lose' }
  /** New connections of the device are reset once its CONNECT names it; existing ones untouched. */
  | { kind: 'refuse' }
  /** Existing connections reset now, new ones refused, for the whole window. */
  | { kind: 'partition' }
  /** One-shot: RST the device's live connections when applied (reset storm); reconnects allowed. */
  | { kind: 'reset' }
  /** Virtual ms, both directions, order preserved. */
  | { kind: 'latency'; delayMs: number; jitterMs: number }
  /** A lost segment arrives after a retransmission delay (virtual ms): TCP cannot lose bytes. */
  | { kind: 'loss'; rate: number; retransmitMs: number }
  /** Real bytes per second per connection, each direction. */
  | { kind: 'bandwidth'; bytesPerS: number }
  /** Virtual ms idle both ways after which the NAT mapping is gone: bytes vanish, no FIN/RST. */
  | { kind: 'nat-idle'; idleMs: number }
  /** An upstream packet larger than maxBytes vanishes and stalls that direction until close. */
  | { kind: 'mtu'; maxBytes: number };

export type FaultKind = FaultEffect['kind'];

/** Counters of one fault id; kept after the fault is healed, for the run's report. */
export interface FaultStats {
  readonly kind: FaultKind;
  /** Devices the fault applies to now. */
  devices: number;
  /** Upstream packets / bytes both ways that went through a shaping fault (latency, loss, bandwidth, mtu). */
  packetsForwarded: number;
  bytesForwarded: number;
  /** Upstream packets dropped; bytes dropped both ways. */
  packetsDropped: number;
  bytesDropped: number;
  /** Segments a loss fault delayed by a retransmission. */
  retransmits: number;
  fakeReplies: Record<FakeReply, number>;
  resets: number;
  stalls: number;
  natExpiries: number;
  /** Connections closed when ack-then-lose was healed. */
  healCloses: number;
}

/** A fault id's effect, its devices and its counters. */
export interface Fault {
  readonly id: string;
  readonly effect: FaultEffect;
  readonly devices: Set<string>;
  readonly stats: FaultStats;
}

export function newFaultStats(kind: FaultKind): FaultStats {
  return {
    kind,
    devices: 0,
    packetsForwarded: 0,
    bytesForwarded: 0,
    packetsDropped: 0,
    bytesDropped: 0,
    retransmits: 0,
    fakeReplies: { connack: 0, puback: 0, pubrec: 0, pubcomp: 0, pingresp: 0, suback: 0, unsuback: 0 },
    resets: 0,
    stalls: 0,
    natExpiries: 0,
    healCloses: 0,
  };
}

/** Throws a VigilError naming the field when an effect's numbers make no sense. */
export function validateEffect(faultId: string, e: FaultEffect): void {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new VigilError('VIGIL_SCENARIO_INVALID', `fault ${faultId} (${e.kind}): ${field} = ${String(value)}`, `give ${field} ${want}`);
  };
  const nonNegative = (field: string, v: number): void => {
    if (!Number.isFinite(v) || v < 0) bad(field, v, 'a finite number ≥ 0');
  };
  switch (e.kind) {
    case 'latency':
      nonNegative('delayMs', e.delayMs);
      nonNegative('jitterMs', e.jitterMs);
      return;
    case 'loss':
      if (!(e.rate >= 0 && e.rate <= 1)) bad('rate', e.rate, 'a number in [0, 1]');
      nonNegative('retransmitMs', e.retransmitMs);
      return;
    case 'bandwidth':
      if (!Number.isFinite(e.bytesPerS) || e.bytesPerS <= 0) bad('bytesPerS', e.bytesPerS, 'a finite number > 0');
      return;
    case 'nat-idle':
      if (!Number.isFinite(e.idleMs) || e.idleMs <= 0) bad('idleMs', e.idleMs, 'a finite number > 0');
      return;
    case 'mtu':
      if (!Number.isInteger(e.maxBytes) || e.maxBytes < 2) bad('maxBytes', e.maxBytes, 'an integer ≥ 2 (the smallest MQTT packet)');
      return;
    default:
      return;
  }
}

/** What a connection of one device does, all its effects composed; times already in real ms. */
export interface Policy {
  readonly blackHole: Fault | undefined;
  readonly ackThenLose: Fault | undefined;
  /** refuse or partition: new connections are reset at CONNECT. */
  readonly refuse: Fault | undefined;
  readonly mtu: { readonly fault: Fault; readonly maxBytes: number } | undefined;
  readonly natIdle: { readonly fault: Fault; readonly idleRealMs: number } | undefined;
  /** Latencies add up; each loss draws on its own; the narrowest bandwidth wins. */
  readonly latency: readonly { readonly fault: Fault; readonly delayRealMs: number; readonly jitterRealMs: number }[];
  readonly loss: readonly { readonly fault: Fault; readonly rate: number; readonly retransmitRealMs: number }[];
  readonly bandwidth: { readonly fault: Fault; readonly bytesPerS: number } | undefined;
  /** latency, loss or bandwidth: bytes go through a delay line. */
  readonly shaping: boolean;
  /** Faults whose forwarded traffic is counted: the shaping ones and mtu. */
  readonly counted: readonly Fault[];
}

export const NO_EFFECT: Policy = Object.freeze({
  blackHole: undefined,
  ackThenLose: undefined,
  refuse: undefined,
  mtu: undefined,
  natIdle: undefined,
  latency: [],
  loss: [],
  bandwidth: undefined,
  shaping: false,
  counted: [],
});

/** Composes a device's faults (in the order they were applied); `speed` = virtual s per real s. */
export function composePolicy(faults: Iterable<Fault>, speed: number): Policy {
  let blackHole: Fault | undefined;
  let ackThenLose: Fault | undefined;
  let refuse: Fault | undefined;
  let mtu: Policy['mtu'];
  let natIdle: Policy['natIdle'];
  let bandwidth: Policy['bandwidth'];
  const latency: Policy['latency'][number][] = [];
  const loss: Policy['loss'][number][] = [];
  const counted: Fault[] = [];
  let any = false;
  for (const fault of faults) {
    const e = fault.effect;
    switch (e.kind) {
      case 'black-hole':
        blackHole ??= fault;
        break;
      case 'ack-then-lose':
        ackThenLose ??= fault;
        break;
      case 'refuse':
      case 'partition':
        refuse ??= fault;
        break;
      case 'reset':
        continue; // one-shot, done when applied
      case 'latency':
        latency.push({ fault, delayRealMs: e.delayMs / speed, jitterRealMs: e.jitterMs / speed });
        counted.push(fault);
        break;
      case 'loss':
        loss.push({ fault, rate: e.rate, retransmitRealMs: e.retransmitMs / speed });
        counted.push(fault);
        break;
      case 'bandwidth':
        if (bandwidth === undefined || e.bytesPerS < bandwidth.bytesPerS) bandwidth = { fault, bytesPerS: e.bytesPerS };
        counted.push(fault);
        break;
      case 'nat-idle':
        if (natIdle === undefined || e.idleMs / speed < natIdle.idleRealMs) natIdle = { fault, idleRealMs: e.idleMs / speed };
        break;
      case 'mtu':
        if (mtu === undefined || e.maxBytes < mtu.maxBytes) mtu = { fault, maxBytes: e.maxBytes };
        counted.push(fault);
        break;
    }
    any = true;
  }
  if (!any) return NO_EFFECT;
  return {
    blackHole,
    ackThenLose,
    refuse,
    mtu,
    natIdle,
    latency,
    loss,
    bandwidth,
    shaping: latency.length > 0 || loss.length > 0 || bandwidth !== undefined,
    counted,
  };
}
