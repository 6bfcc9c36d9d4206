/**
 * Pre-upgrade rehearsal, a template to copy and edit: the operator shortens the NAT idle timeout on
 * the devices' APN (DOMAIN.md "How a network change breaks IoT devices": idle mappings vanish
 * silently). Will devices whose uplink is quiet for longer than the new timeout — a home unit
 * reporting a heartbeat every 3 minutes, a bracelet at rest fixing once an hour — lose their
 * sessions without noticing, and will the centre see them go silent?
 *
 * Edit: `idle` (the new NAT timeout), the change window, the fleet, the target (an operator, a
 * device type, a fraction for a staged roll-out). Run it before the change against staging
 * (`--broker`, `--pipeline`), and keep run.json to compare with the rehearsal after.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'rehearsal-nat-timeout',
  description: 'The NAT idle timeout drops to 2 minutes at 02:00 for every device of the operator.',
  seed: 1,
  speed: 60,
  start: '2021-11-08T00:00:00+01:00',
  duration: '6h',
  fleet: { pse: 1700, psem: 250, bar: 25 },
  faults: [
    { name: 'nat-2min', kind: 'nat-idle', idle: '2m', from: '2021-11-08T02:00:00+01:00', until: '2021-11-08T05:00:00+01:00' },
  ],
});
