/**
 * How many wearers of each type a fleet has. Its own module, without the device model: a scenario
 * is checked against it (scenarios/schema.ts) before anything of the model needs to load.
 */
export interface FleetMix {
  readonly pse: number;
  readonly psem: number;
  /** BAR pairs: two devices each. */
  readonly bar: number;
}

/**
 * DOMAIN.md: in October 2021 ~14,500 people were under electronic monitoring plus ~350 under BAR;
 * PSE (home detention) is "most of the fleet". The PSE/PSEM split is ours: 15,000 wearers, 15,350
 * devices (a BAR pair is two).
 */
export const DEFAULT_FLEET_MIX: FleetMix = { pse: 13_150, psem: 1_500, bar: 350 };

/**
 * The mix for `wearers` wearers (a BAR pair counts one), proportional to `mix` (largest
 * remainders), keeping at least one of each type the mix has — so with fewer wearers than types
 * the total exceeds `wearers`.
 */
export function scaleMix(mix: FleetMix, wearers: number): FleetMix {
  const keys = ['pse', 'psem', 'bar'] as const;
  const total = keys.reduce((n, k) => n + mix[k], 0);
  if (total === 0) return { pse: 0, psem: 0, bar: 0 };
  const quota = keys.map((k) => (wearers * mix[k]) / total);
  const out = keys.map((k, i) => (mix[k] > 0 ? Math.max(1, Math.floor(quota[i] as number)) : 0));
  const sum = (): number => out.reduce((n, x) => n + x, 0);
  const gap = (i: number): number => (quota[i] as number) - (out[i] as number);
  while (sum() < wearers) {
    const i = [0, 1, 2].filter((j) => mix[keys[j] as 'pse'] > 0).reduce((a, b) => (gap(b) > gap(a) ? b : a));
    out[i] = (out[i] as number) + 1;
  }
  while (sum() > wearers) {
    const shrinkable = [0, 1, 2].filter((j) => (out[j] as number) > 1);
    if (shrinkable.length === 0) break;
    const i = shrinkable.reduce((a, b) => (gap(b) < gap(a) ? b : a));
    out[i] = (out[i] as number) - 1;
  }
  return { pse: out[0] as number, psem: out[1] as number, bar: out[2] as number };
}

