/**
 * The fleet of a run, in this process (`--workers 1`, the default) or split over worker processes
 * (`--workers N`, sim/fleet-shards.ts) behind one face: what the runner, the drain watches of
 * process faults and the operator network need of the devices, whichever way they run.
 */
import { VigilError } from '../../protocol/errors.ts';
import type { Clock } from '../../protocol/clock.ts';
import type { UplinkRecord } from '../../protocol/uplink.ts';
import { Fleet, type DeliveryMode, type DeviceProgress, type FleetStats } from '../../sim/fleet.ts';
import { ShardedFleet } from '../../sim/fleet-shards.ts';
import type { Firmware } from '../../sim/model/firmware.ts';
import type { RecordMinuteCounts } from '../../sim/record-minutes.ts';
import type { FleetPlan } from '../../sim/model/fleet-plan.ts';
import { planFirmwares } from '../../sim/model/seed-replay.ts';
import type { Scenario } from '../schema.ts';
import type { DeviceLogin } from '../../sim/transport/link.ts';
import type { DeviceSeqs } from './process-faults.ts';

export interface RunFleet {
  readonly stats: FleetStats;
  readonly pending: number;
  /** Records sent, resent and stored per virtual minute so far (undefined before the timeline). */
  readonly recordMinutes: RecordMinuteCounts | undefined;
  /** Every device, in plan order. */
  readonly devices: readonly DeviceSeqs[];
  /** A device's firmware when it runs in this process (device faults act on it); undefined with workers. */
  firmwareOf(deviceId: string): Firmware | undefined;
  connect(timeoutMs: number): Promise<number>;
  run(clock: Clock): void;
  stopRecordingAfter(t: number): void;
  /** Resolves once every record due by now has reached onRecord (the oracle may then close). */
  sync(): Promise<void>;
  progress(): Promise<DeviceProgress[]>;
  close(): Promise<void>;
}

export interface RunFleetOptions {
  readonly workers: number;
  readonly plan: FleetPlan;
  readonly scenario: Scenario;
  readonly modes: readonly DeliveryMode[];
  readonly keepaliveS: number;
  /** The broker URL a device dials (asked at every dial in one process; once, at start, with workers). */
  readonly endpointOf: (deviceId: string) => string;
  readonly onRecord: (r: UplinkRecord) => void;
  /** A device's link failed (keepalive timeout, refused CONNECT, socket error): the harness's own trouble, for the journal. */
  readonly onLinkError?: (deviceId: string, err: Error) => void;
  /** TLS and per-device credentials (sim/transport/link.ts). */
  readonly login?: DeviceLogin | undefined;
}

/**
 * Faults a sharded fleet cannot carry, refused before anything starts: a device's endpoint is
 * fixed when its shard starts (endpoint-move re-points it mid-run) and its firmware lives in
 * another process (clock-skew sets it directly).
 */
export function checkWorkers(scenario: Scenario, workers: number, file: string): void {
  if (workers <= 1) return;
  scenario.faults.forEach((f, i) => {
    if (f.kind === 'endpoint-move' || f.kind === 'clock-skew') {
      throw new VigilError('VIGIL_USAGE', `scenario ${file}: faults.${i}.kind: ${f.kind} needs every device in Vigil's own process, not split over --workers ${workers}`,
        'run it with --workers 1 (the default), or drop the fault');
    }
  });
}

export async function startRunFleet(o: RunFleetOptions): Promise<RunFleet> {
  const { scenario, plan } = o;
  const start = scenario.start;
  const end = start + scenario.duration;
  if (o.workers <= 1) {
    const firmwares = planFirmwares(plan, scenario.seed, start, end, scenario.speed);
    const byId = new Map(firmwares.map((fw) => [fw.deviceId, fw]));
    const fleet = new Fleet({
      endpointOf: (slot) => o.endpointOf((firmwares[slot] as Firmware).deviceId), firmwares, modes: o.modes, keepaliveS: o.keepaliveS,
      seed: scenario.seed, speed: scenario.speed, connectRatePerS: scenario.connectRate, onRecord: o.onRecord, onLinkError: o.onLinkError, login: o.login,
    });
    return {
      get stats() {
        return fleet.stats;
      },
      get pending() {
        return fleet.pending;
      },
      get recordMinutes() {
        return fleet.recordMinutes;
      },
      devices: firmwares,
      firmwareOf: (id) => byId.get(id),
      connect: (ms) => fleet.connect(ms),
      run: (clock) => fleet.run(clock),
      stopRecordingAfter: (t) => {
        for (const fw of firmwares) fw.stopRecordingAfter(t);
      },
      sync: () => fleet.sync(),
      progress: () => Promise.resolve(fleet.progress()),
      close: () => fleet.close(),
    };
  }
  const sharded = await ShardedFleet.start({
    workers: o.workers, devices: plan.devices, endpoints: plan.devices.map((d) => o.endpointOf(d.deviceId)), modes: o.modes,
    seed: scenario.seed, start, end, speed: scenario.speed, keepaliveS: o.keepaliveS, connectRatePerS: scenario.connectRate,
    onRecord: o.onRecord, onLinkError: o.onLinkError, login: o.login,
  });
  return {
    get stats() {
      return sharded.stats;
    },
    get pending() {
      return sharded.pending;
    },
    get recordMinutes() {
      return sharded.recordMinutes;
    },
    devices: sharded.views,
    firmwareOf: () => undefined,
    connect: (ms) => sharded.connect(ms),
    run: (clock) => sharded.run(clock.triple),
    stopRecordingAfter: (t) => sharded.stopRecordingAfter(t),
    sync: () => sharded.sync(),
    progress: () => sharded.progress(),
    close: () => sharded.close(),
  };
}
