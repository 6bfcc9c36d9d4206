/**
 * When a device dials again after losing its connection: capped exponential backoff with full
 * jitter, as IoT firmware does to avoid a reconnect stampede (DOMAIN.md "How a network change breaks
 * IoT devices": "reset storms followed by a reconnect stampede"). Attempt n (0 after a drop, +1 per
 * failed dial, back to 0 once the link is up) waits `minMs + U(0, min(capMs, windowMs × 2^n))`.
 *
 * Stateless and seeded: the jitter is a hash of (the fleet's seed, the device's id, n), so a link
 * keeps nothing of it — a fleet's links share one Backoff — and a run's redials are the same from
 * one run to the next.
 */
import { hashString, mix32 } from '../model/random.ts';

export interface Backoff {
  /** Real ms before any redial: a device never dials again at once. */
  readonly minMs: number;
  /** The jitter window of the first redial after a drop; it doubles with every failed dial. */
  readonly windowMs: number;
  /** The largest window. */
  readonly capMs: number;
  /** The fleet's seed: each device draws its own delays from it and its id (the same device, the same delays). */
  readonly seed: number;
}

/** Real ms device `deviceId` waits before redial `attempt` (0-based). */
export function redialDelayMs(b: Backoff, deviceId: string, attempt: number): number {
  const window = Math.min(b.capMs, b.windowMs * 2 ** Math.min(attempt, 20));
  const u = mix32(mix32(b.seed ^ hashString(deviceId)) ^ Math.imul(attempt + 1, 0x9e3779b9)) / 4294967296;
  return b.minMs + u * window;
}

/**
 * The redial rate a whole fleet's first redials are spread to after every device dropped at once
 * (a heal, a broker restart): at most this many dials a real second on average. mosquitto listens
 * with a backlog of 100 (`ss -ltn`: Send-Q 100, fixed in its source); a fleet that dials 15,000
 * devices within one second overflows it (the kernel drops the handshake's last ACK, the
 * client waits for a CONNACK that only comes after SYN-ACK retransmissions at 1, 3, 7 s…), and
 * measured on this machine that made a 15,000-device storm take 5–25 s (600–1,400 connects/s).
 *
 * Spread too thin is no better. At 3,000 a second (a 5-s window for 15,000 devices) the listen
 * queue overflowed more (689–2,278 handshakes dropped in each run, `nstat` TcpExtListenOverflows,
 * against 4–1,206 in five runs at 5,000) and the last devices came back 1.4–3.6 s after the window:
 * 1,753–2,345 connects/s in four runs. At 5,000 (a 3-s window): 2,535–3,576 connects/s in sixteen
 * runs; at 7,500, 3,378 and 2,984, up to 2,970 dropped — the machine's own pace. Measured with
 * `BENCH_CADENCE=domain BENCH_ONLY=vigil npm run bench:fleet`, 15,000 devices on mosquitto,
 * 2026-12-02 (docs/PERFORMANCE.md "The reconnect storm").
 */
export const FLEET_REDIAL_RATE_PER_S = 5000;

/** The firmware's largest backoff window, in the device's own (virtual) time. */
export const FIRMWARE_BACKOFF_CAP_MS = 60_000;

/**
 * The backoff of the devices of a fleet of `devices`, in a run at `speed` (virtual ms per real
 * ms): after a drop, a small fleet redials within 1–2 s (as before backoff), a large one spreads its
 * first redials at `redialRatePerS` on average — both real time, what the machine and the broker's
 * listen backlog can take. The doubling after failed dials is the firmware's own, capped at
 * FIRMWARE_BACKOFF_CAP_MS of device time: at speed 60 that is one real second, so the window then
 * stays at the fleet's spread. (A real-time cap of 60 s had devices wait up to an hour of virtual
 * time after a 2-minute broker restart at speed 60, silent past the offline timeout: measured, the
 * full-size acceptance run with a broker restart, 233 communication_loss alarms the harness made.)
 */
export function fleetBackoff(devices: number, redialRatePerS: number, fleetSeed: number, speed: number): Backoff {
  const windowMs = Math.max(1000, (devices / redialRatePerS) * 1000);
  return { minMs: 1000, windowMs, capMs: Math.max(windowMs, FIRMWARE_BACKOFF_CAP_MS / speed), seed: mix32(fleetSeed) };
}
