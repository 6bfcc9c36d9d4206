/**
 * The k6 entry of `vigil k6 export`: bundled with the device model into one script that drives the
 * scenario's fleet through the xk6-mqtt extension (grafana/xk6-mqtt, `k6/x/mqtt`), split over k6
 * instances by execution segment (segment.ts).
 *
 * Devices onto VUs: a k6 VU is a whole JavaScript runtime (its own copy of the bundle's module
 * state: faker's French locale, the model's tables), a few MB before it drives anything, so one
 * VU per device would cost gigabytes at 15,000 devices. Instead each VU drives many devices, each
 * with its own xk6-mqtt client (a paho connection and its goroutines) on the VU's one event loop
 * (device-driver.ts), woken from one wake queue: the per-device cost is that client plus the
 * firmware's state. The export picks the number of VUs (`--vus`, default one per 500 devices);
 * k6 spreads them over the instances, so it must be at least the number of instances.
 */
import './encoding-polyfill.ts';
import exec from 'k6/execution';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'k6/timers';
import { Client } from 'k6/x/mqtt';
import config from 'vigil:export';
import { virtualClock } from '../../protocol/clock.ts';
import { createFirmware, planFleet } from '../../sim/model/fleet-plan.ts';
import { deviceConfigForSpeed } from '../../sim/model/defaults.ts';
import { DeviceDriver, type DriverDevice, type DriverHost } from './device-driver.ts';
import { brokerOf, readClock } from './run-env.ts';
import { devicesOfVu, segmentRange } from './segment.ts';

// Read in the init context, so a missing or wrong clock stops every instance before any VU starts.
const triple = readClock(__ENV, config);
const brokerUrl = brokerOf(__ENV, config);
const connectSpreadS = config.deviceIds.length / config.connectRatePerS;
const untilStartS = Math.max(0, (triple.startReal - Date.now()) / 1000);
const timelineS = (config.end - config.start) / config.speed / 1000;

export const options = {
  scenarios: {
    devices: {
      executor: 'per-vu-iterations',
      vus: config.vus,
      iterations: 1,
      // The one iteration is the whole run: wait for the start, the timeline, the drain.
      maxDuration: `${Math.ceil(untilStartS + connectSpreadS + timelineS + config.drainMs / 1000 + 120)}s`,
    },
  },
};

function segmentOf(): string | undefined {
  const s = exec.test.options.executionSegment;
  return s === undefined || s === null ? undefined : String(s);
}

/** Runs once per instance: an instance whose share of devices got no VU would silently drop them. */
export function setup(): void {
  const range = segmentRange(config.deviceIds.length, segmentOf());
  if (range.hi > range.lo && exec.instance.vusInitialized === 0) {
    throw new Error(`this instance (segment ${segmentOf() ?? '0:1'}) has ${range.hi - range.lo} devices but no VU: export again with --vus at least the number of k6 instances`);
  }
}

const host: DriverHost = {
  newClient: (clientId) => new Client({ client_id: clientId }),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(id as number),
  realNow: () => Date.now(),
};

export default async function run(): Promise<void> {
  const range = segmentRange(config.deviceIds.length, segmentOf());
  const indexes = devicesOfVu(range, exec.vu.idInInstance, exec.instance.vusInitialized);
  const indexOf = new Map(indexes.map((i) => [config.deviceIds[i] as string, i]));
  // Only this VU's devices are planned: each device draws from its own seeded streams, so it
  // comes out exactly as in the whole fleet's plan.
  const plan = planFleet({ seed: config.seed, mix: config.mix, cities: config.cities, behaviour: config.behaviour, start: config.start, only: (id) => indexOf.has(id) });
  const cfg = deviceConfigForSpeed(config.speed);
  const devices: DriverDevice[] = plan.devices.filter((d) => indexOf.has(d.deviceId)).map((d) => {
    const firmware = createFirmware(d, config.seed, config.start, cfg);
    firmware.stopRecordingAfter(config.end);
    return { firmware, mode: config.modes[d.type], fleetIndex: indexOf.get(d.deviceId) as number };
  });
  const tag = `vigil vu ${exec.vu.idInInstance}/${exec.instance.vusInitialized} segment ${segmentOf() ?? '0:1'}`;
  const driver = new DeviceDriver(devices, virtualClock(triple), host, {
    brokerUrl, keepaliveS: config.keepaliveS, connectRatePerS: config.connectRatePerS, end: config.end, drainMs: config.drainMs,
    log: (line) => console.log(`${tag}: ${line}`),
  });
  const stats = await driver.run();
  console.log(`${tag}: done ${JSON.stringify(stats)}`);
}
