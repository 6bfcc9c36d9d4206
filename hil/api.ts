/**
 * The contract between the HIL core (serial ports, framing, the reliable link, sessions, the
 * emulator) and the run that puts a real device into a scenario (stimulus, the gateway bridge, the
 * ledger). Types only: the core implements them (hil/session.ts, hil/discovery.ts), the run uses
 * them (hil/bridge.ts, scenarios/runner), and tests of either side can stand in for the other.
 *
 * The wire protocol itself is docs/PROTOCOL.md and protocol/serial-frame.ts.
 */
import type { UplinkRecord } from '../protocol/uplink.ts';

/** The device types a HIL device can play (DOMAIN.md: PSEM GPS bracelet, BAR perpetrator bracelet). */
export type HilDeviceType = 'psem' | 'bar_perpetrator';

/** What `identify` answers. */
export interface HilIdentity {
  readonly serialNumber: string;
  readonly model: string;
  readonly firmwareVersion: string;
  /** The device types this device can play in a run. */
  readonly deviceTypes: readonly HilDeviceType[];
  /** True when the device runs its clock at the run's speed (set-time with speed); false forces speed 1. */
  readonly followsVirtualTime: boolean;
  /** Serial protocol version (docs/PROTOCOL.md). */
  readonly protocolVersion: number;
}

/** One serial port as the OS lists it; `stablePath` is /dev/serial/by-id/… when there is one. */
export interface HilPortInfo {
  readonly path: string;
  readonly stablePath?: string;
  readonly vendorId?: string;
  readonly productId?: string;
  readonly serialNumber?: string;
  readonly manufacturer?: string;
}

/**
 * How a run or a command names a device: never `/dev/ttyUSBn` alone (it changes on replug) unless
 * it is a pseudo-terminal or a by-id path. Text form (CLI `--hil`, scenario `hil[].device`):
 * a path (`/dev/serial/by-id/…`, `/tmp/vigil-pty-a`), `serial=ABC123`, or `vid=0483,pid=5740[,serial=…]`.
 */
export interface HilMatch {
  readonly path?: string;
  readonly serialNumber?: string;
  readonly vendorId?: string;
  readonly productId?: string;
}

/** Device → harness status (the `status` command's answer). */
export interface HilStatus {
  /** Device clock, virtual ms. */
  readonly time: number;
  readonly battery: number;
  readonly charging: boolean;
  /** Records held in the device's outbox, not yet acknowledged. */
  readonly outbox: number;
  /** Highest seq the device has made (it never goes back, also across reboots). */
  readonly lastSeq: number;
  readonly selfTest: 'ok' | string;
}

/** Counted, never fatal (issue 5: "counted in the report and never crash the run"). */
export interface HilLinkStats {
  framesIn: number;
  framesOut: number;
  crcErrors: number;
  garbageBytes: number;
  oversizedFrames: number;
  unknownFrames: number;
  naksSent: number;
  naksReceived: number;
  retransmits: number;
  timeouts: number;
  reconnects: number;
}

/** One open device: commands resolve when the device ACKs them, reject with HilError on timeout. */
export interface HilSession {
  readonly identity: HilIdentity;
  readonly port: HilPortInfo;
  readonly stats: HilLinkStats;
  /** 'up' while the port is open and the device answers; 'down' while unplugged (the session keeps retrying). */
  readonly state: 'up' | 'down';

  /**
   * Gives the device its run identity: the device id its records carry, and its type for this run.
   * Sent again by the session after every reconnection.
   */
  configure(c: { readonly deviceId: string; readonly deviceType: HilDeviceType }): Promise<void>;
  /** Sets the device clock to virtual ms `time`, running at `speed` (1 when it cannot follow). */
  setTime(time: number, speed: number): Promise<void>;
  /** The next GPS fix the device will see (its firmware decides when to report it). */
  injectFix(fix: { readonly lat: number; readonly lon: number; readonly accuracyM: number }): Promise<void>;
  /** Strap tamper (cut). */
  injectTamper(): Promise<void>;
  setBattery(percent: number): Promise<void>;
  setCharger(connected: boolean): Promise<void>;
  /** BAR perpetrator units have no SOS button; the emulator refuses it for them with NAK. */
  sos(): Promise<void>;
  status(): Promise<HilStatus>;
  /** Gateway mode: the pipeline's application ack (highest contiguous seq stored), relayed to the device. */
  ack(seq: number): Promise<void>;

  /**
   * Records as the device sends them (uplink records: protocol/uplink.ts). After a reconnection
   * the device resends what it still holds: callers dedupe on seq.
   */
  onRecord(cb: (r: UplinkRecord) => void): () => void;
  onState(cb: (state: 'up' | 'down') => void): () => void;
  close(): Promise<void>;
}

export interface OpenHilOptions {
  /** Raw, timestamped byte log of both directions (issue 5: one per device in the run directory). */
  readonly byteLogFile?: string;
  /** Per-frame ACK timeout, real ms (default 500) and retransmits before a command fails (default 3). */
  readonly ackTimeoutMs?: number;
  readonly retries?: number;
  /** Baud rate (default 115200; a pseudo-terminal ignores it). */
  readonly baudRate?: number;
  readonly log?: (line: string) => void;
}

/** What hil/discovery.ts exports. */
export type ListHilPorts = () => Promise<HilPortInfo[]>;
/** What hil/session.ts exports: finds the port, locks it exclusively, opens it, identifies the device. */
export type OpenHilSession = (match: HilMatch, opts?: OpenHilOptions) => Promise<HilSession>;
