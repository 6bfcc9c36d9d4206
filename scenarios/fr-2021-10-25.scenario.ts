/**
 * The replay of Monday 25 October 2021 (DOMAIN.md "The incident"): the French fleet — ~15,000
 * wearers, mostly PSE, ~350 BAR pairs — on a single mobile operator. At 16:10 a network update
 * turns half the fleet's path into ack-then-lose: the operator's gateway keeps answering the
 * devices (PUBACK, keepalive) and forwards nothing, so no device can notice. The fault is fixed at
 * 18:25; devices come back progressively until 21:50; the run ends at 23:00.
 *
 * What must hold (issue 4): with store-and-forward firmware nothing is dropped — the alarms that
 * fired during the outage arrive late, within the allowance after each device's link came back —
 * and the pipeline raises each silenced device's communication_loss and one mass
 * communication-loss alarm within their SLAs, then the recovery. With `--firmware broker-ack` the
 * devices trust the gateway's PUBACK and forget: the run FAILs and names every dropped alarm.
 *
 * Issue 4's bar is speed ≥ 60 and ≤ 9 minutes of wall time at full size; 9 virtual hours at exactly
 * 60 take the whole 9 minutes before the fleet has connected, so the run goes at 64 (8 min 26 s of
 * timeline) and connects at 1,000 devices a second (15 s; the default 500/s takes 31 s). The README
 * runs it with `--devices 300` and a higher speed so a new user sees the headline case in about
 * three minutes.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'fr-2021-10-25',
  description: 'The French EM outage of 25 October 2021: half the fleet behind an ack-then-lose gateway for 2 h 15 min, back progressively until 21:50.',
  seed: 20211025,
  speed: 64,
  connectRate: 1000,
  start: '2021-10-25T14:00:00+02:00',
  duration: '9h',
  // The default fleet: DOMAIN.md's French mix (13,150 PSE, 1,500 PSEM, 350 BAR pairs).
  cities: ['paris', 'marseille', 'lyon', 'toulouse', 'nice', 'nantes', 'strasbourg', 'montpellier', 'bordeaux', 'lille', 'rennes', 'reims', 'toulon', 'grenoble', 'dijon', 'angers', 'nimes', 'clermont-ferrand', 'le-havre', 'rouen'],
  network: {
    // DOMAIN.md: "The French kit uses a single mobile operator that can roam onto the best network."
    operators: [{ id: 'fr-operator', share: 1 }],
    // A tenth of an operator's devices silent at once is an outage, not a few flat batteries.
    massCommunicationLoss: { share: 0.1, minDevices: 5 },
  },
  firmware: 'store-and-forward',
  faults: [
    {
      name: 'network-update',
      kind: 'ack-then-lose',
      from: '2021-10-25T16:10:00+02:00',
      until: '2021-10-25T18:25:00+02:00',
      // DOMAIN.md: "about half of the active devices lost contact".
      target: { operator: 'fr-operator', fraction: 0.5 },
      // Fixed at 18:25, devices back progressively until 21:50.
      recovery: '3h25m',
    },
  ],
});
