/**
 * The twin of acceptance-restarts-15k.scenario.ts that must FAIL (issue 8): the same fleet, timeline
 * and faults, but firmware that forgets a record once the broker acknowledged it (broker-ack), and
 * mosquitto with its default queue of 1,000 messages per client (DOMAIN.md "Brokers drop too"). What
 * mosquitto discards for the pipeline while it is down or slow is gone for good, and the ledger must
 * name every alarm that went with it — the 2021 failure's shape: acknowledged, then lost.
 *
 *   npx vigil run scenarios/acceptance-overflow-15k.scenario.ts --mosquitto     (exit 1: FAIL, by design)
 */
import base from './acceptance-restarts-15k.scenario.ts';
import { defineScenario } from './define.ts';

export default defineScenario({
  ...base,
  name: 'acceptance-overflow-15k',
  description: 'acceptance-restarts-15k with broker-ack firmware and mosquitto\'s default queue: the alarms the broker drops are named.',
  firmware: 'broker-ack',
  broker: { maxQueuedMessages: 1000, maxInflightMessages: 1000, persistence: true },
});
