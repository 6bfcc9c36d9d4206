/**
 * Smoke: 1,000 GPS bracelets (PSEM) around six French cities for 2 virtual hours at speed 60
 * (about two minutes of wall time). At DOMAIN.md's background rate of ~1.25 violations per wearer
 * per day, 1,000 wearers make ~100 exclusion-zone entries in 2 h — comfortably over 50.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'smoke',
  description: 'The walking skeleton end to end: 1,000 bracelets, 2 hours, every alarm accounted for.',
  seed: 2021,
  speed: 60,
  start: '2021-10-25T14:00:00+02:00',
  duration: '2h',
  fleet: { psem: 1000 },
});
