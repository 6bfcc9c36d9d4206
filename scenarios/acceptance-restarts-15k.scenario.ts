/**
 * A contractor acceptance test at full size (issue 8): the French fleet for two virtual hours while
 * the pipeline is restarted (an upgrade: killed, back after 3 minutes) and later reads its broker
 * slowly for 10 minutes (a slow consumer: mosquitto discards what overflows its queue for it,
 * DOMAIN.md "Brokers drop too").
 *
 * What must hold with store-and-forward firmware: no alarm lost — the broker keeps the pipeline's
 * persistent session while it is down (give mosquitto `max_queued_messages` room for the fleet's
 * records of the outage), and what it drops for the slow consumer is resent by the devices.
 * With `--firmware broker-ack` the devices forget what the broker acknowledged: what mosquitto
 * drops is gone, and the run FAILs naming every alarm dropped.
 *
 * Needs an external mosquitto (`--broker`): the slow consumer is mosquitto's queue limit at work.
 * At speed 60 the timeline takes 2 minutes; run it on a machine of its own (docs/PERFORMANCE.md).
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'acceptance-restarts-15k',
  description: 'The French fleet for two hours: the pipeline restarted for 3 minutes, then a slow consumer for 10 minutes.',
  seed: 20261130,
  speed: 60,
  connectRate: 1000,
  start: '2021-11-08T09:00:00+01:00',
  duration: '2h',
  // The default fleet: DOMAIN.md's French mix (13,150 PSE, 1,500 PSEM, 350 BAR pairs).
  network: { operators: [{ id: 'fr-operator', share: 1 }] },
  firmware: 'store-and-forward',
  faults: [
    { name: 'pipeline-upgrade', kind: 'pipeline-restart', from: '2021-11-08T09:30:00+01:00', until: '2021-11-08T09:33:00+01:00' },
    { name: 'slow-consumer', kind: 'slow-consumer', from: '2021-11-08T10:00:00+01:00', until: '2021-11-08T10:10:00+01:00' },
  ],
});
