/**
 * Pre-upgrade rehearsal, a template to copy and edit: the operator moves the devices' APN to a
 * path with a smaller MTU during a 20-minute maintenance cut (DOMAIN.md: "an MTU change lets
 * handshakes and small packets through but drops large ones (a backlog flush)"). The cut makes
 * every device build a backlog; after it, single records and heartbeats pass and the backlog
 * flush does not: the session stalls, the device redials, flushes again, stalls again.
 *
 * What to read in the report: the `mtu` window's communication_loss alarms (devices that looked
 * alive at first and then went silent), the position history (records stuck behind the stall),
 * and whether anything drains before the path is fixed. Edit `maxBytes` (IPv4 minimum path MTU
 * 576 minus 28 bytes of IP and TCP headers here), the windows and the fleet.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'rehearsal-mtu',
  description: 'A 20-minute maintenance cut at 02:00, then a 548-byte path MTU until 04:00.',
  seed: 1,
  speed: 60,
  start: '2021-11-08T01:00:00+01:00',
  duration: '4h',
  fleet: { pse: 1700, psem: 250, bar: 25 },
  faults: [
    { name: 'maintenance-cut', kind: 'partition', from: '2021-11-08T02:00:00+01:00', until: '2021-11-08T02:20:00+01:00' },
    { name: 'small-mtu', kind: 'mtu', maxBytes: 548, from: '2021-11-08T02:20:00+01:00', until: '2021-11-08T04:00:00+01:00' },
  ],
});
