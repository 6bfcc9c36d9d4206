/**
 * The Dutch outage of August 2018 (DOMAIN.md "Other outages"): 450 of ~700 tags went dark from
 * Friday to Sunday when their operator, Tele2, failed; the positions the tags had stored were
 * uploaded afterwards. Here: 700 GPS tags, 450 of them on the failing operator (its share), whose
 * network refuses them and drops their sessions for 48 hours (a partition); the others stay on a
 * healthy operator.
 *
 * What it shows: every dark tag's communication_loss and the operator's mass alarm within their
 * SLAs, the recovery, the backlog drain when 450 tags upload two days of positions at once — and
 * whether a 2,000-record outbox (DOMAIN.md "device record buffer") holds a weekend: a tag that
 * had to drop records fails position completeness, named with how many it dropped.
 * The French fleet's wearers and cities stand in for the Dutch ones; only the shape matters.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'nl-2018-tele2',
  description: '450 of 700 tags dark from Friday evening to Sunday evening (operator outage), positions uploaded after.',
  seed: 2018,
  // 66 virtual hours: 13 minutes at speed 300.
  speed: 300,
  start: '2018-08-17T12:00:00+02:00',
  duration: '66h',
  fleet: { psem: 700 },
  network: {
    operators: [{ id: 'tele2', share: 0.643 }, { id: 'other', share: 0.357 }],
  },
  faults: [
    {
      name: 'tele2-outage',
      kind: 'partition',
      from: '2018-08-17T18:00:00+02:00',
      until: '2018-08-19T18:00:00+02:00',
      target: { operator: 'tele2' },
      // The network comes back cell by cell over an hour.
      recovery: '1h',
    },
  ],
});
