/**
 * The seam between a device's firmware and its network path: a small interface, one file per
 * transport behind it (STYLE.md §2), chosen by URL scheme in `openLink`.
 */
import type { Backoff } from './backoff.ts';
import type { DialPacer } from './dial-pacer.ts';
import type { TlsMaterial } from '../../protocol/tls.ts';

/**
 * Where a link dials: a broker URL, or something asked again before every dial, as a device resolves
 * its broker's name again when it dials (an endpoint move is followed from the next dial). An object
 * with `endpoint()` lets a fleet hand each link the events object it already keeps per device, not
 * a closure of its own per link (sim/fleet.ts `SlotEvents`).
 */
export type Endpoint = string | (() => string) | { endpoint(): string };

/** Where `e` points now. */
export function endpointNow(e: Endpoint): string {
  return typeof e === 'string' ? e : typeof e === 'function' ? e() : e.endpoint();
}

export interface LinkEvents {
  /** A link session is up and the device's ack topic is subscribed. */
  onUp(): void;
  onDown(): void;
  /** The pipeline's application ack: records up to `seq` are stored. */
  onAck(seq: number): void;
  onError(err: Error): void;
}

export interface DeviceLink {
  readonly connected: boolean;
  /**
   * Publishes one uplink payload. Only called while connected. `onSent` runs when the broker's
   * PUBACK arrives (QoS 1), or once the packet is written to the socket (QoS 0). A string is sent
   * as its UTF-8 bytes (the fleet hands over its JSON text, saving an encode and a copy per publish).
   */
  publish(payload: Uint8Array | string, qos: 0 | 1, onSent?: () => void): void;
  /** Drops the connection as a device gives up on it; the link dials again by itself. */
  reconnect(): void;
  close(): Promise<void>;
}

export interface LinkOptions {
  /** Real ms between reconnect attempts, when no `backoff` is given. */
  readonly reconnectMs: number;
  /** Jittered exponential backoff between reconnect attempts (sim/transport/backoff.ts); overrides `reconnectMs`. */
  readonly backoff?: Backoff;
  /** The fleet's dial pacer (sim/transport/dial-pacer.ts): redials wait their turn there after the backoff. */
  readonly pacer?: DialPacer;
  /** Real seconds of MQTT keepalive. */
  readonly keepaliveS: number;
  /** Lean link: real ms an owed PUBACK may wait to ride with a packet of the device's (default PUBACK_HOLD_MS, lean-link.ts). */
  readonly pubackHoldMs?: number;
  /**
   * The run's device secret: a device logs in as itself, its password derived from it and its id
   * (protocol/device-credentials.ts); none: an anonymous CONNECT, as before issue 8. A secret, not
   * each device's login, so that a fleet's links share one LinkOptions.
   */
  readonly deviceSecret?: string | undefined;
  /** CA and client certificate for an mqtts:// endpoint (protocol/tls.ts). */
  readonly tls?: TlsMaterial | undefined;
}

/**
 * How a fleet's devices log in to their broker (issue 8 item 1 and 2): the TLS material for mqtts://,
 * and the run's device secret each device's password is derived from (protocol/device-credentials.ts).
 * Plain data: it crosses to fleet worker processes as it is.
 */
export interface DeviceLogin {
  readonly tls?: TlsMaterial | undefined;
  /** Undefined: devices connect anonymously. */
  readonly deviceSecret?: string | undefined;
}
