/** What an operator proxy reports: connection-level events for the journal, and counters. */
import type { FaultStats } from './effects.ts';
import type { FakeReply } from './replies.ts';

export type CloseReason =
  /** The device closed, or its socket failed. */
  | 'device'
  /** The broker closed its side and the proxy passed the FIN on. */
  | 'upstream'
  /** Reset by refuse, partition or reset. */
  | 'fault'
  /** Closed when ack-then-lose was healed. */
  | 'heal'
  | 'malformed'
  /** OperatorProxy.close(). */
  | 'proxy';

export type NetworkEventDetail =
  | { readonly type: 'open' }
  | { readonly type: 'identified'; readonly protocolVersion: number }
  | { readonly type: 'close'; readonly reason: CloseReason; readonly error: string | undefined }
  | { readonly type: 'reset'; readonly faultId: string; readonly cause: 'refuse' | 'partition' | 'reset' }
  /** The connection's first byte lost to a black hole: it stays silent until closed. */
  | { readonly type: 'black-holed'; readonly faultId: string }
  | { readonly type: 'fake-reply'; readonly faultId: string; readonly packet: FakeReply; readonly packetId: number | undefined }
  | { readonly type: 'stall'; readonly faultId: string; readonly packetBytes: number; readonly maxBytes: number }
  | { readonly type: 'nat-expired'; readonly faultId: string; readonly idleMs: number }
  /** The broker closed its side while the device must not see it (black hole, ack-then-lose, lost NAT mapping). */
  | { readonly type: 'upstream-lost' }
  | { readonly type: 'upstream-error'; readonly message: string }
  | { readonly type: 'malformed'; readonly message: string };

export type NetworkEvent = {
  /** Virtual ms (ProxyOptions.clock). */
  readonly at: number;
  readonly operatorId: string;
  /** Unique per proxy, from 1. */
  readonly connId: number;
  /** Undefined until the connection's CONNECT is read. */
  readonly deviceId: string | undefined;
} & NetworkEventDetail;

export interface ProxyStats {
  readonly connectionsAccepted: number;
  readonly connectionsOpen: number;
  /** Forwarded: upstream bytes and packets, downstream bytes (downstream is not framed). */
  readonly bytesUp: number;
  readonly packetsUp: number;
  readonly bytesDown: number;
  /** Dropped by faults: upstream packets, bytes both ways. */
  readonly packetsDropped: number;
  readonly bytesDropped: number;
  readonly fakeReplies: number;
  readonly resets: number;
  /** New connections reset at CONNECT by refuse or partition. */
  readonly refused: number;
  readonly stalls: number;
  readonly natExpiries: number;
  readonly healCloses: number;
  readonly malformed: number;
  readonly upstreamErrors: number;
  /** onEvent / onUplinkForwarded threw (the proxy carries on). */
  readonly callbackErrors: number;
  readonly byFault: ReadonlyMap<string, Readonly<FaultStats>>;
}

export type MutableProxyStats = { -readonly [K in Exclude<keyof ProxyStats, 'byFault'>]: ProxyStats[K] } & { readonly byFault: Map<string, FaultStats> };

export function newProxyStats(): MutableProxyStats {
  return {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    bytesUp: 0,
    packetsUp: 0,
    bytesDown: 0,
    packetsDropped: 0,
    bytesDropped: 0,
    fakeReplies: 0,
    resets: 0,
    refused: 0,
    stalls: 0,
    natExpiries: 0,
    healCloses: 0,
    malformed: 0,
    upstreamErrors: 0,
    callbackErrors: 0,
    byFault: new Map(),
  };
}
