/**
 * The scenario's `hil` section: real devices on serial ports in the run (issue 5 item 4). Zod shapes,
 * the text form of a device match (`--hil` and `hil[].device`), and the stimulus times resolved
 * against the run — all checked before any port opens, each error naming the field and what is allowed.
 *
 *     hil: [{
 *       device: 'serial=EMU-0001',          // a path, serial=…, or vid=…,pid=…[,serial=…]
 *       role: 'psem',                       // or 'bar_perpetrator'
 *       wearer: { city: 'lyon' },           // or the id of a planned wearer: 'PSEM-00003'
 *       stimulus: [{ at: '+5m', enterZone: 'Z-X-HIL-PSEM-1' }, { at: '+12m', tamper: true }],
 *       mode: 'gateway',                    // or 'direct'
 *     }]
 */
import { z } from 'zod';
import { hilMatchProblem, parseHilMatch } from '../hil/match.ts';
import type { HilStimulusStep } from '../hil/stimulus.ts';
import { CITIES, type CityName } from '../sim/model/geo.ts';
import { duration, OFFSET_HINT, when, type When } from './network-schema.ts';

export const HIL_ROLES = ['psem', 'bar_perpetrator'] as const;
export type HilRole = (typeof HIL_ROLES)[number];
/**
 * gateway: Vigil carries the device's serial records to the broker as that device (hil/bridge.ts);
 * direct: the device has its own uplink, Vigil only stimulates it and reads its records.
 */
export const HIL_MODES = ['gateway', 'direct'] as const;
export type HilMode = (typeof HIL_MODES)[number];

const hilMatch = z.string().transform((s, ctx) => {
  const problem = hilMatchProblem(s);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return parseHilMatch(s);
});

const cityNames = Object.keys(CITIES) as [CityName, ...CityName[]];

const ACTIONS = ['tamper', 'battery', 'charger', 'enterZone', 'approachVictim'] as const;

/** One stimulus: exactly one action at a point of the timeline. */
const StimulusStep = z.strictObject({
  at: when,
  /** Strap tamper (cut). */
  tamper: z.literal(true).optional(),
  /** Battery level, percent. */
  battery: z.number().int().min(0).max(100).optional(),
  /** Charger plugged in (true) or out. */
  charger: z.boolean().optional(),
  /** The wearer sets off at `at` for this zone (one of the device's own, e.g. its exclusion zone Z-X-<id>) and stays `stay`. */
  enterZone: z.string().min(1).optional(),
  /** A BAR perpetrator sets off at `at` for where his victim's routine has her then (the pair's alarms follow), and stays `stay`. */
  approachVictim: z.literal(true).optional(),
  stay: duration.optional(),
}).superRefine((s, ctx) => {
  const given = ACTIONS.filter((a) => s[a] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({ code: 'custom', message: `expected exactly one action of ${ACTIONS.join(', ')}${given.length > 1 ? `, got ${given.join(' and ')}` : ''}` });
  }
  if (s.stay !== undefined && s.enterZone === undefined && s.approachVictim === undefined) ctx.addIssue({ code: 'custom', path: ['stay'], message: 'stay goes with enterZone or approachVictim only' });
});

/** A planned wearer's id for the role: PSEM-00003 for psem, BAR-P-00003 for a BAR perpetrator. */
const WEARER_ID = { psem: /^PSEM-\d{5}$/, bar_perpetrator: /^BAR-P-\d{5}$/ } as const;
const VICTIM_ID = /^BAR-V-\d{5}$/;

export const HilEntry = z.strictObject({
  device: hilMatch,
  role: z.enum(HIL_ROLES).default('psem'),
  /**
   * Whose life the device lives: the id of a planned wearer of the role's type (that virtual device
   * leaves the fleet and the real one takes its place, zones and pair included), or a new wearer
   * Vigil plans for it, in `city` (default: the scenario's first city).
   */
  wearer: z.union([z.string(), z.strictObject({ city: z.enum(cityNames).optional() })], {
    error: 'expected a planned wearer\'s id ("PSEM-00003", "BAR-P-00003") or { city }',
  }).optional(),
  /** BAR: the planned victim unit ("BAR-V-00002") the device is paired with, in place of that pair's virtual perpetrator. */
  pairWith: z.string().regex(VICTIM_ID, 'expected a planned victim unit\'s id, like "BAR-V-00001"').optional(),
  stimulus: z.array(StimulusStep).default([]),
  mode: z.enum(HIL_MODES).default('gateway'),
}).superRefine((e, ctx) => {
  e.stimulus.forEach((s, j) => {
    if (s.approachVictim && e.role !== 'bar_perpetrator') ctx.addIssue({ code: 'custom', path: ['stimulus', j, 'approachVictim'], message: 'approachVictim goes with role: "bar_perpetrator" only (a PSEM has no victim)' });
  });
  if (e.pairWith !== undefined && e.role !== 'bar_perpetrator') {
    ctx.addIssue({ code: 'custom', path: ['pairWith'], message: 'pairWith goes with role: "bar_perpetrator" only' });
  }
  if (typeof e.wearer === 'string') {
    if (!WEARER_ID[e.role].test(e.wearer)) {
      ctx.addIssue({ code: 'custom', path: ['wearer'], message: `a ${e.role} device takes over a planned ${e.role} wearer: expected an id like ${e.role === 'psem' ? '"PSEM-00003"' : '"BAR-P-00003"'}` });
    } else if (e.pairWith !== undefined && e.pairWith.slice(-5) !== e.wearer.slice(-5)) {
      ctx.addIssue({ code: 'custom', path: ['pairWith'], message: `${e.wearer} is paired with BAR-V-${e.wearer.slice(-5)}, not ${e.pairWith}: give one of them` });
    }
  }
});
export type HilEntryInput = z.input<typeof HilEntry>;

/** Each device's text once: two entries on one port would fight over it. */
export const HilSection = z.array(HilEntry).default([]).superRefine((list, ctx) => {
  const seen = new Map<string, number>();
  list.forEach((e, i) => {
    const key = JSON.stringify(e.device);
    const first = seen.get(key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'device'], message: `names the same device as hil.${first}.device: one entry per device` });
    else seen.set(key, i);
  });
});

type ParsedEntry = z.output<typeof HilEntry>;

/** An entry with its stimulus times resolved to virtual ms. */
export type TimedHilEntry = Omit<ParsedEntry, 'stimulus'> & { readonly stimulus: readonly HilStimulusStep[] };

/** Each stimulus at a virtual time inside the run's timeline. */
export function timeHil(entries: readonly ParsedEntry[], start: number, end: number): { ok: true; hil: TimedHilEntry[] } | { ok: false; problems: { path: string; message: string }[] } {
  const problems: { path: string; message: string }[] = [];
  const at = (w: When): number => w.at ?? start + (w.offsetMs ?? 0);
  const iso = (t: number): string => new Date(t).toISOString();
  const hil = entries.map((e, i) => ({
    ...e,
    stimulus: e.stimulus.map((s, j): HilStimulusStep => {
      const t = at(s.at);
      if (t < start || t >= end) problems.push({ path: `hil.${i}.stimulus.${j}.at`, message: `is ${iso(t)}, outside the run (${iso(start)} → ${iso(end)}): expected ${OFFSET_HINT} inside it` });
      if (s.tamper) return { at: t, action: 'tamper' };
      if (s.battery !== undefined) return { at: t, action: 'battery', percent: s.battery };
      if (s.charger !== undefined) return { at: t, action: 'charger', connected: s.charger };
      if (s.approachVictim) return { at: t, action: 'approachVictim', stayMs: s.stay ?? DEFAULT_STAY_MS };
      return { at: t, action: 'enterZone', zoneId: s.enterZone as string, stayMs: s.stay ?? DEFAULT_STAY_MS };
    }),
  }));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, hil };
}

/** How long a wearer sent into a zone stays there unless the step says `stay`. */
export const DEFAULT_STAY_MS = 10 * 60_000;
