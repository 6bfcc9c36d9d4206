/**
 * The device model's heap per device, offline: no sockets, no broker, no noise from the young
 * generation or the allocator — the number to watch while packing the model's state (issue 7's
 * ≤ 8 KB per device; docs/PERFORMANCE.md). Plans a fleet, builds its firmwares, drops the plan (as
 * bench/vigil-fleet.ts does), then runs every device 10 virtual minutes and 3 virtual hours with
 * everything acked, and prints the live heap per device after a full collection at each step.
 * sim/seed-stability.test.ts checks that such a change leaves the records as they were.
 *
 *   node --import tsx bench/model-memory.bench.ts [fleet=psem|mixed] [size=15000]
 *   node --import tsx bench/model-memory.bench.ts psem 15000 /tmp/model.heapsnapshot   (and a heap snapshot)
 *
 * psem: the fleet of `npm run bench`, `size` PSEM bracelets; mixed: DOMAIN.md's French mix scaled to
 * `size` wearers (a BAR pair is one wearer and two devices: 15,000 wearers are 15,350 devices).
 * Exit 0, or 2 on bad arguments.
 */
import { writeHeapSnapshot } from 'node:v8';
import { DEFAULT_BEHAVIOUR } from '../sim/model/behaviour.ts';
import { deviceConfigForSpeed } from '../sim/model/defaults.ts';
import { DEFAULT_FLEET_MIX, scaleMix, type FleetMix } from '../sim/model/fleet-mix.ts';
import { createFirmware, planFleet } from '../sim/model/fleet-plan.ts';
import { collectGarbage } from './collect.ts';

const usage = (why: string): never => {
  process.stderr.write(`${why}\nusage: node --import tsx bench/model-memory.bench.ts [psem|mixed] [size ≥ 100] [heap snapshot file]\n`);
  process.exit(2);
};
const fleet = process.argv[2] ?? 'psem';
if (fleet !== 'psem' && fleet !== 'mixed') usage(`fleet must be psem or mixed, got "${fleet}"`);
const size = Number(process.argv[3] ?? 15_000);
if (!Number.isInteger(size) || size < 100) usage(`size must be an integer ≥ 100 (devices for psem, wearers for mixed), got "${process.argv[3]}"`);
const snapshotFile = process.argv[4];

const heapUsed = (): number => {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

const SEED = 2021;
const SPEED = 60;
const CITIES = ['paris', 'lyon', 'marseille', 'lille', 'toulouse', 'bordeaux'] as const;
const start = Date.parse('2026-12-01T10:00:00Z');
const mix: FleetMix = fleet === 'psem' ? { pse: 0, psem: size, bar: 0 } : scaleMix(DEFAULT_FLEET_MIX, size);
// The bench's configuration (bench/vigil-fleet.ts): every device at one fix a minute.
const base = deviceConfigForSpeed(SPEED);
const cfg = { ...base, restFixIntervalMs: base.fixIntervalMs, violationFixIntervalMs: base.fixIntervalMs };

// What the plan loads once (faker's French locale, the modules' own data) is not the devices'.
planFleet({ seed: SEED, mix: { pse: 1, psem: 1, bar: 1 }, cities: CITIES, behaviour: DEFAULT_BEHAVIOUR, start });
const h0 = heapUsed();
const firmwares = planFleet({ seed: SEED, mix, cities: CITIES, behaviour: DEFAULT_BEHAVIOUR, start }).devices.map((d) => createFirmware(d, SEED, start, cfg));
const n = firmwares.length;
const perDevice = (): string => `${((heapUsed() - h0) / n).toFixed(0)} bytes`;
const runTo = (t: number): void => {
  for (const fw of firmwares) {
    fw.wake(t, true, () => {});
    fw.onAck(fw.lastSeq);
  }
};

process.stdout.write(`device model, ${fleet} fleet of ${n} devices (${mix.pse} PSE, ${mix.psem} PSEM, ${mix.bar} BAR pairs): live heap per device\n`);
process.stdout.write(`  as created:               ${perDevice()}\n`);
runTo(start + 10 * 60_000);
process.stdout.write(`  after 10 virtual minutes: ${perDevice()}\n`);
runTo(start + 3 * 3_600_000);
process.stdout.write(`  after 3 virtual hours:    ${perDevice()}\n`);
if (snapshotFile !== undefined) process.stdout.write(`  heap snapshot: ${writeHeapSnapshot(snapshotFile)}\n`);
