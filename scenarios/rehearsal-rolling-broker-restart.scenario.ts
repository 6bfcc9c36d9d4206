/**
 * Pre-upgrade rehearsal, a template to copy and edit: the broker is upgraded by restarting it
 * several times in a row (a rolling restart of a cluster, node by node, seen from one endpoint).
 * Each restart drops every session and whatever the broker held; devices reconnect in a stampede,
 * the pipeline resubscribes, and store-and-forward firmware resends what was not acknowledged.
 *
 * What to read: per restart window, the alarms due in it (late within the allowance, none
 * dropped), the drain after each, and whether restarts shorter than the offline timeout raise any
 * communication_loss (they must not: the devices come back first). Edit the windows: a restart that
 * lasts longer than `offlineTimeout` requires every device's communication_loss and a mass alarm.
 * `broker-restart` acts on the embedded broker; against your own broker, script its restarts and
 * run this scenario without them as the baseline.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'rehearsal-rolling-broker-restart',
  description: 'Three broker restarts of two minutes, twenty minutes apart, from 02:00.',
  seed: 1,
  speed: 60,
  start: '2021-11-08T01:30:00+01:00',
  duration: '2h',
  fleet: { pse: 850, psem: 125, bar: 12 },
  faults: [
    { name: 'restart-1', kind: 'broker-restart', from: '2021-11-08T02:00:00+01:00', until: '2021-11-08T02:02:00+01:00' },
    { name: 'restart-2', kind: 'broker-restart', from: '2021-11-08T02:20:00+01:00', until: '2021-11-08T02:22:00+01:00' },
    { name: 'restart-3', kind: 'broker-restart', from: '2021-11-08T02:40:00+01:00', until: '2021-11-08T02:42:00+01:00' },
  ],
});
