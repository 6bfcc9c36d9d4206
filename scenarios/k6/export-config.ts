/**
 * What `vigil k6 export` bakes into the k6 script: everything a k6 instance needs to rebuild, from
 * the seed alone, exactly the firmwares the Node fleet would run. Types only: the Node side writes
 * it (scenarios/k6-export/), the bundled k6 code reads it (import 'vigil:export').
 */
import type { Behaviour } from '../../sim/model/behaviour.ts';
import type { FleetMix } from '../../sim/model/fleet-mix.ts';
import type { CityName } from '../../sim/model/geo.ts';

/** Each device's delivery mode (sim/fleet.ts DeliveryMode), by device type. */
export type DeliveryModeName = 'store-and-forward' | 'broker-ack' | 'fire-and-forget';
export type DeviceTypeName = 'pse' | 'psem' | 'bar_perpetrator' | 'bar_victim';

/**
 * A time zone's UTC offsets as a step function, read from luxon (IANA data through Intl) at export
 * time: k6's JavaScript runtime has no Intl (grafana/k6 issue 2327), so the bundle looks offsets up
 * here instead (scenarios/k6/luxon-shim.ts).
 */
export interface ZoneTable {
  readonly zone: string;
  /** The instants the table covers, ms since the epoch: outside them the shim refuses to guess. */
  readonly from: number;
  readonly to: number;
  /** Offset in minutes from `from` until transitions[0], then offsets[i + 1] from transitions[i]. */
  readonly offsets: readonly number[];
  readonly transitions: readonly number[];
}

export interface ExportConfig {
  /** The scenario, by name and the sha256 of its file, so a run can say what it replayed. */
  readonly scenario: { readonly name: string; readonly file: string; readonly sha256: string };
  readonly seed: number;
  readonly mix: FleetMix;
  readonly cities: readonly CityName[];
  readonly behaviour: Behaviour;
  /** Virtual start and end of the timeline, ms since the epoch. */
  readonly start: number;
  readonly end: number;
  /** Virtual ms per real ms: the firmware's config depends on it (sim/model/defaults.ts deviceConfigForSpeed). */
  readonly speed: number;
  /** Every device id of the fleet, in plan order: execution segments split this list. */
  readonly deviceIds: readonly string[];
  readonly modes: Readonly<Record<DeviceTypeName, DeliveryModeName>>;
  /** The broker used when the run does not set VIGIL_BROKER. */
  readonly brokerUrl: string;
  /** VUs over the whole test (k6 splits them over the segments); each drives deviceIds.length / vus devices. */
  readonly vus: number;
  /** Connections opened per real second over the whole fleet while it starts (scenario connectRate). */
  readonly connectRatePerS: number;
  /** Real seconds of MQTT keepalive. */
  readonly keepaliveS: number;
  /** Real ms a VU waits after the end of the timeline for its last acks before it disconnects. */
  readonly drainMs: number;
  readonly timeZone: ZoneTable;
}
