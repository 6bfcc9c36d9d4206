/**
 * The French EM fleet at full size: 15,000 wearers in DOMAIN.md's mix (mostly PSE home detention,
 * 1,500 PSEM GPS bracelets, 350 BAR pairs — 15,350 devices), for 24 virtual hours across the night
 * the clocks go back (30–31 October 2021, Europe/Paris), with every alarm kind at its background
 * rate (~1.25 per wearer per day, BAR 3–4 per pair per day). At speed 60: 24 minutes of wall time.
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'baseline-15k',
  description: 'The default 15,000-wearer French fleet for 24 virtual hours, every alarm kind at background rates.',
  seed: 2021,
  speed: 60,
  start: '2021-10-30T12:00:00+02:00',
  duration: '24h',
  cities: ['paris', 'marseille', 'lyon', 'toulouse', 'nice', 'nantes', 'strasbourg', 'montpellier', 'bordeaux', 'lille', 'rennes', 'reims', 'toulon', 'grenoble', 'dijon', 'angers', 'nimes', 'clermont-ferrand', 'le-havre', 'rouen'],
});
