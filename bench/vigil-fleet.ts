/**
 * Vigil's contender in `npm run bench`: the real `Fleet` (sim/fleet.ts) with firmwares from the
 * seeded plan (sim/model/fleet-plan.ts), the smoke scenario's seed and speed, virtual time starting
 * now. bench/acker.ts answers its uplinks, standing in for the pipeline. The oracle and the journal of
 * a real run are left out: this measures the fleet and its links.
 *
 *   node --import tsx bench/vigil-fleet.ts '<BenchParams JSON>'   (run by fleet.bench.ts)
 *
 * VIGIL_LINK=mqttjs (read here, inherited from `npm run bench`) gives the fleet the mqtt.js link instead of the lean one
 * (sim/transport/lean-link.ts) instead of mqtt.js.
 */
import { virtualClock } from '../protocol/clock.ts';
import { Fleet } from '../sim/fleet.ts';
import { deviceConfigForSpeed } from '../sim/model/defaults.ts';
import { DEFAULT_BEHAVIOUR } from '../sim/model/behaviour.ts';
import { createFirmware, planFleet } from '../sim/model/fleet-plan.ts';
import { tuneHeapForFleet } from '../sim/fleet-heap.ts';
import { measure, paramsFromArgv, type Contender } from './measure.ts';

const p = paramsFromArgv();
const SEED = 2021;
const SPEED = 60;
const CITIES = ['paris', 'lyon', 'marseille', 'lille', 'toulouse', 'bordeaux'] as const;
const LINK = process.env.VIGIL_LINK === 'mqttjs' ? 'mqttjs' : 'lean';
// A process of devices only, set up as a `--workers` shard's is (sim/fleet-worker.ts, sim/fleet-heap.ts).
tuneHeapForFleet();

await measure('vigil', p, (): Contender => {
  // Virtual time equals real time at the epoch, so bench/acker.ts can tell when a record was made.
  const now = p.epoch;
  const clock = virtualClock({ startVirtual: now, startReal: now, speed: SPEED });
  // The target load is one fix per device per 60 virtual s. DOMAIN.md's cadence would slow
  // wearers at rest to one fix an hour (a heartbeat every 180 s) and speed up violators to 15 s, so
  // both are pinned to 60 s: at speed 60 every device then sends one message per real second, the
  // same load as the baseline. BENCH_CADENCE=domain keeps the defaults instead.
  const base = deviceConfigForSpeed(SPEED);
  const cfg = process.env.BENCH_CADENCE === 'domain'
    ? base
    : { ...base, restFixIntervalMs: base.fixIntervalMs, violationFixIntervalMs: base.fixIntervalMs };
  // Issue 2's bench: GPS bracelets only (the smoke scenario's fleet).
  const plan = planFleet({ seed: SEED, mix: { pse: 0, psem: p.devices, bar: 0 }, cities: CITIES, behaviour: DEFAULT_BEHAVIOUR, start: now });
  const firmwares = plan.devices.map((d) => createFirmware(d, SEED, now, cfg));
  const fleet = new Fleet({ endpointOf: () => p.url, firmwares, seed: SEED, speed: SPEED, connectRatePerS: p.connectRatePerS, onRecord: () => {}, link: LINK });
  const sum = (f: (c: (typeof firmwares)[number]['counters']) => number): number => firmwares.reduce((n, fw) => n + f(fw.counters), 0);
  return {
    // As the baseline does, devices report while the fleet is still connecting (no warm-up wait):
    // the bench measures connect time and steady load side by side.
    start: () => {
      void fleet.connect(10 * 60_000);
      fleet.run(clock);
    },
    connected: () => fleet.stats.connected,
    publishes: () => fleet.stats.publishes,
    // counters.sent is the highest seq sent so far, i.e. the device's count of first sends.
    records: () => ({ sent: sum((c) => c.sent), resent: sum((c) => c.resent) }),
    // The application ack (bench/acker.ts), not the broker's PUBACK.
    acks: () => fleet.stats.acks,
    extra: () => ({
      unacked: fleet.pending,
      // Devices the acker has acked at least once: they connected and their reports got through.
      reported: firmwares.filter((fw) => fw.ackedSeq > 0).length,
      // Devices that made a record at all: a wearer's bracelet can be flat or off from the start
      // (sim/model: 2 of these 15,000 over 100 virtual minutes), and a silent device has nothing to ack.
      makers: firmwares.filter((fw) => fw.lastSeq > 0).length,
      created: sum((c) => c.created),
      resent: sum((c) => c.resent),
      evicted: sum((c) => c.evicted),
      acks: fleet.stats.acks,
      disconnects: fleet.stats.disconnects,
      linkErrors: fleet.stats.linkErrors,
      // A real delay of d delays a device's records by d × speed of its (virtual) time.
      speed: SPEED,
    }),
    dropAll: () => fleet.reconnectAll(),
    errors: () => fleet.stats.linkErrors,
    close: () => fleet.close(),
  };
});
