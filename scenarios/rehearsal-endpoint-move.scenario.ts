/**
 * Pre-upgrade rehearsal, a template to copy and edit: the broker moves to a new address, a new IP
 * behind the same DNS name — a data-centre migration, a load balancer replaced (DOMAIN.md "How a
 * network change breaks IoT devices": APN/DNS re-pointing). At 02:00 the old address stops serving
 * the devices (their sessions are reset, their redials refused) and the new one serves them; each
 * device learns the new address when its cached DNS entry expires, somewhere in the 30 minutes of
 * the record's TTL, and redials the old address until then.
 *
 * What the rehearsal shows: a TTL that outlasts the offline timeout (10 minutes) silences about two
 * thirds of the fleet — the devices whose cache outlived it — for longer than that timeout, though
 * the new endpoint works from the first minute: each of them owes a communication_loss, and their
 * share crosses the operator's mass threshold, so the centre sees a mass_communication_loss for a
 * planned change. Read the window's absence counts (every owed alarm raised on time?), the time to
 * detect and the backlog drain. Then lower `dnsTtl` below the offline timeout (say '5m', as a team
 * does days before a move) and run it again: the silences no longer reach the timeout.
 *
 * Edit: `dnsTtl` (the record's TTL), the window (`until`: the old address serves again, the change
 * rolled back or the migration window over), the fleet, the target (an operator, a fraction for a
 * staged move). Run it against staging (`--broker`, `--pipeline`) before the change and keep run.json.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'rehearsal-endpoint-move',
  description: 'The broker moves to a new address at 02:00 for every device of the operator; DNS TTL 30 minutes; the old address serves again at 05:00.',
  seed: 1,
  speed: 60,
  start: '2021-11-08T00:00:00+01:00',
  duration: '6h',
  fleet: { pse: 1700, psem: 250, bar: 25 },
  faults: [
    // No target: every device (the fleet has one operator).
    { name: 'broker-move', kind: 'endpoint-move', dnsTtl: '30m', from: '2021-11-08T02:00:00+01:00', until: '2021-11-08T05:00:00+01:00' },
  ],
});
