/**
 * The load side of observe mode (`vigil run --devices-only --clock … --broker …`): only the fleet —
 * the same planned firmwares, delivery modes, keepalive and connect rate as a normal run — on the
 * observer's clock, against the observer's broker. No pipeline, no provisioning, no verdict: it
 * ends once the timeline and a drain are over (every record acknowledged, or the scenario's drain
 * limit) and says what it sent. The observer judges.
 */
import { basename } from 'node:path';
import { virtualClock, type ClockTriple } from '../../protocol/clock.ts';
import { VigilError } from '../../protocol/errors.ts';
import type { LoadedScenario } from '../load.ts';
import { provisionRun } from './provision.ts';
import { probeBroker } from './endpoints.ts';
import type { DeviceLogin } from '../../sim/transport/link.ts';
import { redactUrl } from '../../protocol/redact.ts';
import { firmwareModes } from './setup.ts';
import { Teardowns } from './teardown.ts';
import { drain, waitUntil } from './feed-watch.ts';
import { checkClockFits, refuseFaultsWithoutDevices } from './clock-handoff.ts';
import { checkWorkers, startRunFleet } from './run-fleet.ts';

export interface DevicesOnlyOptions {
  readonly loaded: LoadedScenario;
  readonly clock: ClockTriple;
  readonly brokerUrl: string;
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal | undefined;
  /** Worker processes the fleet is split over (--workers). */
  readonly workers: number;
  /** TLS and the device secret ($VIGIL_DEVICE_SECRET), as the observer's broker expects them. */
  readonly login?: DeviceLogin | undefined;
}

export interface DevicesOnlyOutcome {
  readonly devices: number;
  readonly records: number;
  readonly publishes: number;
  readonly acks: number;
  /** Records still unacknowledged when it stopped. */
  readonly unacked: number;
  readonly resent: number;
  readonly evicted: number;
}

export async function runDevicesOnly(o: DevicesOnlyOptions): Promise<DevicesOnlyOutcome> {
  const { scenario } = o.loaded;
  const file = basename(o.loaded.file);
  checkClockFits(o.clock, scenario, file);
  refuseFaultsWithoutDevices(scenario, file, '--devices-only');
  const start = scenario.start;
  const end = start + scenario.duration;
  const clock = virtualClock(o.clock);
  if (clock.now() >= end) {
    throw new VigilError('VIGIL_USAGE', `the clock's timeline ended at ${new Date(clock.triple.startReal + scenario.duration / clock.triple.speed).toISOString()}: there is nothing left to send`, 'start the load within the observer\'s lead (vigil run --observe --lead <seconds>), with the clock it printed for this run');
  }
  // The same fleet, validated the same way, as the observer derived its expectations from.
  const { plan } = provisionRun(scenario, file);
  checkWorkers(scenario, o.workers, file);
  await probeBroker(o.brokerUrl, o.login?.tls);

  const teardowns = new Teardowns();
  try {
    let records = 0;
    const fleet = await startRunFleet({
      workers: o.workers, plan, scenario, modes: firmwareModes(scenario, plan.devices.map((d) => d.type)),
      keepaliveS: 60, endpointOf: () => o.brokerUrl, onRecord: () => void records++, login: o.login,
    });
    teardowns.add('fleet', () => fleet.close());
    const startsIn = (clock.triple.startReal - Date.now()) / 1000;
    o.log(`devices-only: ${plan.devices.length} devices → ${redactUrl(o.brokerUrl)}, virtual ${new Date(start).toISOString()} → ${new Date(end).toISOString()} at speed ${scenario.speed}, timeline ${startsIn >= 0 ? `starts in ${startsIn.toFixed(1)} s` : `started ${(-startsIn).toFixed(1)} s ago`}`);
    const warmupLimitMs = Math.max(1000, clock.triple.startReal - Date.now());
    const connected = await fleet.connect((plan.devices.length / scenario.connectRate) * 1000 + warmupLimitMs);
    if (connected < plan.devices.length) o.log(`warm-up: ${connected} of ${plan.devices.length} devices connected; the rest keep trying`);
    if (Date.now() > clock.triple.startReal) {
      o.log(`devices-only: the timeline started ${((Date.now() - clock.triple.startReal) / 1000).toFixed(1)} s before the fleet was up: its first records go out late (give the observer a longer --lead)`);
    }
    fleet.run(clock);
    // Every record up to the end is made by the first fleet tick past it.
    await waitUntil(clock, end + clock.triple.speed * 100, o.signal, () => {
      o.log(`  virtual ${new Date(clock.now()).toISOString()}  connected ${fleet.stats.connected}/${plan.devices.length}  records ${records}  unacked ${fleet.pending}`);
    });
    await drain(clock, clock.now() + scenario.drain, () => fleet.pending === 0, o.signal);
    const devices = await fleet.progress();
    const outcome: DevicesOnlyOutcome = {
      devices: plan.devices.length, records, publishes: fleet.stats.publishes, acks: fleet.stats.acks, unacked: fleet.pending,
      resent: devices.reduce((n, d) => n + d.resent, 0), evicted: devices.reduce((n, d) => n + d.evicted, 0),
    };
    o.log(`sent: ${outcome.records} records from ${outcome.devices} devices in ${outcome.publishes} publishes; ${outcome.acks} acks; ${outcome.unacked} unacknowledged; ${outcome.resent} resent; ${outcome.evicted} evicted`);
    return outcome;
  } finally {
    await teardowns.unwind(o.log);
  }
}
