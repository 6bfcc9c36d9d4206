/**
 * A contractor acceptance test at full size (issue 8): the French fleet for two virtual hours while
 * the pipeline is restarted (an upgrade: killed, back after 3 minutes), the broker is restarted (an
 * upgrade: stopped, its sessions and queues persisted, back after 2 minutes), and the pipeline reads
 * its broker slowly for 10 minutes (a slow consumer: mosquitto discards what overflows its queue for
 * it, DOMAIN.md "Brokers drop too").
 *
 *   npx vigil run scenarios/acceptance-restarts-15k.scenario.ts --mosquitto
 *
 * What must hold with store-and-forward firmware: no alarm lost. The broker keeps the pipeline's
 * persistent session while the pipeline is down (`broker.maxQueuedMessages` gives it room for the
 * fleet's records of the outage), keeps every session across its own restart (`persistence`), and
 * what it drops for the slow consumer is resent by the devices. Its twin,
 * acceptance-overflow-15k.scenario.ts, runs the same with broker-ack firmware and mosquitto's
 * default queue: there the run FAILs and names every alarm dropped.
 *
 * `--mosquitto` starts the broker with this file's `broker` section (sim/mosquitto.ts); with your own
 * broker (`--broker`), set it up so and drop the broker-restart fault (Vigil cannot restart it).
 * At speed 60 the timeline takes 2 minutes; run it on a machine of its own (docs/PERFORMANCE.md).
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'acceptance-restarts-15k',
  description: 'The French fleet for two hours: the pipeline restarted for 3 minutes, the broker for 2, then a slow consumer for 10 minutes.',
  seed: 20261130,
  speed: 60,
  connectRate: 1000,
  start: '2021-11-08T09:00:00+01:00',
  duration: '2h',
  // The default fleet: DOMAIN.md's French mix (13,150 PSE, 1,500 PSEM, 350 BAR pairs).
  network: { operators: [{ id: 'fr-operator', share: 1 }] },
  firmware: 'store-and-forward',
  // A 3-minute pipeline outage holds ~20,000 of the fleet's uplinks for the pipeline's session
  // (measured: 775,119 records in 2 virtual hours); acks queue per device, a few each.
  broker: { maxQueuedMessages: 100_000, maxInflightMessages: 1000, persistence: true },
  faults: [
    { name: 'pipeline-upgrade', kind: 'pipeline-restart', from: '2021-11-08T09:30:00+01:00', until: '2021-11-08T09:33:00+01:00' },
    { name: 'broker-upgrade', kind: 'broker-restart', from: '2021-11-08T09:45:00+01:00', until: '2021-11-08T09:47:00+01:00' },
    { name: 'slow-consumer', kind: 'slow-consumer', from: '2021-11-08T10:00:00+01:00', until: '2021-11-08T10:10:00+01:00' },
  ],
});
