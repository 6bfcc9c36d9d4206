/**
 * The French EM fleet at full size: 15,000 wearers in DOMAIN.md's mix (mostly PSE home detention,
 * 1,500 PSEM GPS bracelets, 350 BAR pairs — 15,350 devices), for 24 virtual hours across the night
 * the clocks go back (30–31 October 2021, Europe/Paris), with every alarm kind at its background
 * rate (~1.25 per wearer per day, BAR 3–4 per pair per day).
 *
 * Issue 3's bar is speed ≥ 60 and ≤ 24 minutes of wall time; 24 virtual hours at exactly 60 take
 * the whole 24 minutes before the fleet has connected, so the run goes a little faster (62: 23 min
 * 14 s of timeline) and connects at 1,000 devices a second (15 s; the default 500/s takes 31 s).
 */
import { defineScenario } from './define.ts';

export default defineScenario({
  name: 'baseline-15k',
  description: 'The default 15,000-wearer French fleet for 24 virtual hours, every alarm kind at background rates.',
  seed: 2021,
  speed: 62,
  connectRate: 1000,
  start: '2021-10-30T12:00:00+02:00',
  duration: '24h',
  cities: ['paris', 'marseille', 'lyon', 'toulouse', 'nice', 'nantes', 'strasbourg', 'montpellier', 'bordeaux', 'lille', 'rennes', 'reims', 'toulon', 'grenoble', 'dijon', 'angers', 'nimes', 'clermont-ferrand', 'le-havre', 'rouen'],
});
