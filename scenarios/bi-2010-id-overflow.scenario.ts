/**
 * The BI Inc. outage of 5 October 2010 (DOMAIN.md "Other outages"): about 16,000 people monitored;
 * a database record id hit its limit (≈ 2.1 billion) and for about 12 hours the monitoring system
 * stopped sending notifications while the devices kept recording. Nothing failed on the network:
 * the pipeline itself lost every alarm it should have raised.
 *
 * Here the reference pipeline is put in that mode (`alarm-id-overflow`: records are stored and
 * acknowledged, the rules run, and every alarm is lost) from 07:00 to 19:00. The verdict is FAIL,
 * and the ledger names every missed alarm: device, kind, when it was due. A contractor's pipeline
 * cannot be switched into this mode; run this against the reference pipeline to see what the
 * evidence of such an outage looks like. The French fleet and cities stand in for BI's.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'bi-2010-id-overflow',
  description: 'The pipeline stops raising alarms for 12 hours while 15,000 devices keep recording.',
  seed: 2010,
  speed: 60,
  start: '2010-10-05T06:00:00+02:00',
  duration: '14h',
  faults: [
    { name: 'id-overflow', kind: 'alarm-id-overflow', from: '2010-10-05T07:00:00+02:00', until: '2010-10-05T19:00:00+02:00' },
  ],
});
