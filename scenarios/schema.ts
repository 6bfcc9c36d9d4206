/**
 * The scenario schema (zod). Every field has a default from DOMAIN.md where one exists; a bad field
 * is rejected before the run starts with its path, the value and what is allowed.
 */
import { z } from 'zod';
import { ALARM_KINDS } from '../protocol/alarms.ts';
import { CITIES, type CityName } from '../sim/model/geo.ts';
import { DEFAULT_SLA_MS, OFFLINE_TIMEOUT_MS } from '../sim/model/defaults.ts';
import { DEFAULT_BEHAVIOUR, scaleBehaviour, type Behaviour } from '../sim/model/behaviour.ts';
import { DEFAULT_FLEET_MIX, type FleetMix } from '../sim/model/fleet-mix.ts';
import { BarPair, Curfew, Zone } from '../protocol/provisioning.ts';
import { HilSection, timeHil, type TimedHilEntry } from './hil-schema.ts';
import { duration, Fault, FAULT_KINDS, Firmware, Network, PROCESS_FAULT_KINDS, type ProcessFaultKind, type When } from './network-schema.ts';

/**
 * Years 1970–9999: the run's end (start + at most 100 years, scenarios/duration.ts) must stay a
 * time a Date can hold — a start of "+275760-09-13" made the validator's own messages throw a
 * RangeError (found by scenarios/schema.fuzz.test.ts).
 */
const LAST_START_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const instant = z.string().transform((s, ctx) => {
  const ms = /[zZ]|[+-]\d\d:\d\d$/.test(s) ? Date.parse(s) : Number.NaN;
  if (Number.isNaN(ms) || ms < 0 || ms > LAST_START_MS) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 date-time with its offset, between 1970 and 9999, like "2021-10-25T14:00:00+02:00"' });
    return z.NEVER;
  }
  return ms;
});

const cityNames = Object.keys(CITIES) as [CityName, ...CityName[]];

const behaviourShape = Object.fromEntries(Object.keys(DEFAULT_BEHAVIOUR).map((k) => [k, z.number().min(0).max(10_000).optional()])) as Record<keyof Behaviour, z.ZodOptional<z.ZodNumber>>;

const slaShape = Object.fromEntries(ALARM_KINDS.map((k) => [k, duration.optional()])) as Record<(typeof ALARM_KINDS)[number], z.ZodOptional<typeof duration>>;

export const ScenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected lower-case letters, digits, "-" and "." (it names run directories)'),
  description: z.string().optional(),
  seed: z.number().int().nonnegative().default(1),
  /** Virtual seconds per real second. */
  speed: z.number().positive().max(10_000).default(60),
  /** Virtual start of the timeline. */
  start: instant.prefault('2021-10-25T14:00:00+02:00'),
  /** Length of the timeline in virtual time. */
  duration,
  /**
   * Wearers per device type; a BAR pair counts once (two devices). Default: the French fleet of
   * DOMAIN.md, 15,000 wearers (sim/model/fleet-plan.ts).
   */
  fleet: z.strictObject({
    pse: z.number().int().min(0).max(100_000).default(0),
    psem: z.number().int().min(0).max(100_000).default(0),
    bar: z.number().int().min(0).max(10_000).default(0),
  }).refine((m) => m.pse + m.psem + m.bar > 0, 'expected at least one wearer: give pse, psem or bar a count').prefault({ ...DEFAULT_FLEET_MIX }),
  cities: z.array(z.enum(cityNames)).min(1).default(['paris', 'lyon', 'marseille', 'lille', 'toulouse', 'bordeaux']),
  /**
   * Violation and incident rates per wearer (or pair) per day; each overrides DOMAIN.md's default
   * (sim/model/behaviour.ts). `scale` multiplies every rate, after the overrides.
   */
  behaviour: z.strictObject({ scale: z.number().min(0).max(10_000).optional(), ...behaviourShape }).default({}),
  /**
   * Changes to what is provisioned, matched by id and merged over the generated fleet: e.g. a BAR
   * pair's alertKm, a PSE curfew's windows, a zone's polygon. Validated like provisioning itself.
   */
  provisioning: z.strictObject({
    zones: z.array(Zone.partial().extend({ zoneId: z.string().min(1) })).optional(),
    curfews: z.array(Curfew.partial().extend({ deviceId: z.string().min(1) })).optional(),
    barPairs: z.array(BarPair.partial().extend({ pairId: z.string().min(1) })).optional(),
    devices: z.array(z.looseObject({ deviceId: z.string().min(1) })).optional(),
  }).optional(),
  /** Trigger → feed, per alarm kind; defaults in sim/model/defaults.ts (DOMAIN.md). */
  sla: z.strictObject(slaShape).default({}),
  /** Silence before communication_loss (docs/RULES.md). */
  offlineTimeout: duration.prefault(`${OFFLINE_TIMEOUT_MS}ms`),
  /** After the timeline, how long (virtual) to wait for pending acks and alarms before the final read. */
  drain: duration.prefault('10m'),
  /** Real connections opened per second while the fleet starts. */
  connectRate: z.number().positive().max(100_000).default(500),
  /** Mobile operators, the mass-loss threshold, whether devices go through the operator proxies. */
  network: Network,
  /** Firmware variant, for all devices or per type; `--firmware` overrides. */
  firmware: Firmware,
  /** Faults on the timeline (scenarios/network-schema.ts): injected by the operator proxies, or broker/pipeline kills. */
  faults: z.array(z.unknown().superRefine((f, ctx) => {
    // zod's discriminated union says only "invalid input" for an unknown kind: name the kinds.
    const kind = (f as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || !(FAULT_KINDS as string[]).includes(kind)) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `unknown fault kind: expected one of ${FAULT_KINDS.join(', ')}` });
    }
  }).pipe(Fault)).default([]),
  /**
   * An alarm late because its device's link was down is accepted when it reaches the feed within
   * this long after the device's link came back (DESIGN.md "The ledger": late within a fault
   * window's allowance).
   */
  lateAllowance: duration.prefault('10m'),
  /** Real devices on serial ports in the run (scenarios/hil-schema.ts); `--hil` adds to it. */
  hil: HilSection,
  /**
   * TLS files for an mqtts:// broker (docs/SAFETY.md "TLS and credentials"): the CA, and a client
   * certificate and key; paths relative to the scenario file. `--ca`, `--cert`, `--key` win.
   */
  tls: z.strictObject({ ca: z.string().min(1).optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional() }).optional(),
  /**
   * Device isolation (issue 8): each device logs in as itself (username = device id, password
   * derived from the run's device secret, protocol/device-credentials.ts), and the embedded broker
   * lets it publish only to its own uplink and read only its own acks. `impostors`: that many
   * devices each try, at the end of the timeline, to publish records as another device; the report
   * shows each attempt and whether the victim's stored records stayed its own.
   */
  isolation: z.strictObject({ impostors: z.number().int().min(0).max(100).default(1) }).optional(),
  /**
   * The broker Vigil starts with `vigil run --mosquitto` (sim/mosquitto.ts): its queue limits and
   * whether it persists sessions and queued messages across a broker-restart. mosquitto's own
   * defaults otherwise (max_queued_messages 1,000, DOMAIN.md "Brokers drop too"; max_inflight_messages
   * 20; persistence off). The embedded aedes broker and a --broker of your own ignore it (run.json's
   * `broker` says which broker a run had).
   */
  broker: z.strictObject({
    maxQueuedMessages: z.number().int().min(0).max(10_000_000).optional(),
    maxInflightMessages: z.number().int().min(0).max(65_535).optional(),
    persistence: z.boolean().optional(),
  }).optional(),
});

export type ScenarioInput = z.input<typeof ScenarioSchema>;
/** A fault with its window resolved to virtual ms. */
export type TimedFault = Fault extends infer F ? (F extends Fault ? Omit<F, 'from' | 'until'> & { readonly name: string; readonly from: number; readonly until: number } : never) : never;
/** A broker or pipeline kill and restart (scenarios/runner/process-faults.ts). */
export type TimedProcessFault = Extract<TimedFault, { kind: ProcessFaultKind }>;
/** A fault the operator proxies inject on chosen devices (scenarios/runner/network.ts). */
export type TimedNetworkFault = Exclude<TimedFault, { kind: ProcessFaultKind }>;
export function isProcessFault(f: TimedFault): f is TimedProcessFault {
  return (PROCESS_FAULT_KINDS as readonly string[]).includes(f.kind);
}

export type Scenario = Omit<z.output<typeof ScenarioSchema>, 'faults' | 'hil'> & {
  readonly faults: readonly TimedFault[];
  /** Real devices, their stimulus times resolved to virtual ms. */
  readonly hil: readonly TimedHilEntry[];
  readonly slaMs: Readonly<Record<(typeof ALARM_KINDS)[number], number>>;
  /** DEFAULT_BEHAVIOUR with the scenario's rates and scale applied. */
  readonly rates: Behaviour;
  readonly mix: FleetMix;
};

export interface ScenarioProblem {
  readonly path: string;
  readonly message: string;
  readonly value: unknown;
}

export function validateScenario(input: unknown): { ok: true; scenario: Scenario } | { ok: false; problems: ScenarioProblem[] } {
  const r = ScenarioSchema.safeParse(input);
  if (!r.success) {
    return {
      ok: false,
      problems: r.error.issues.map((i) => ({
        path: i.path.join('.') || '(scenario)',
        message: i.message,
        value: valueAt(input, i.path),
      })),
    };
  }
  const slaMs = { ...DEFAULT_SLA_MS };
  for (const k of ALARM_KINDS) {
    const v = r.data.sla[k];
    if (v !== undefined) slaMs[k] = v;
  }
  const { scale, ...overrides } = r.data.behaviour;
  const merged = { ...DEFAULT_BEHAVIOUR, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) } as Behaviour;
  const rates = scale === undefined ? merged : scaleBehaviour(merged, scale);
  const end = r.data.start + r.data.duration;
  const timed = timeFaults(r.data.faults, r.data.start, end);
  const hil = timeHil(r.data.hil, r.data.start, end);
  const late = [...(timed.ok ? [] : timed.problems), ...(hil.ok ? [] : hil.problems)];
  if (!timed.ok || !hil.ok) return { ok: false, problems: late.map((p) => ({ ...p, value: valueAt(input, p.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k))) })) };
  return { ok: true, scenario: { ...r.data, faults: timed.faults, hil: hil.hil, slaMs, rates, mix: { ...r.data.fleet } } };
}

/** Each fault's window as virtual ms, inside the run's timeline and not empty. */
function timeFaults(faults: readonly Fault[], start: number, end: number): { ok: true; faults: TimedFault[] } | { ok: false; problems: Omit<ScenarioProblem, 'value'>[] } {
  const at = (w: When): number => w.at ?? start + (w.offsetMs ?? 0);
  const iso = (t: number): string => new Date(t).toISOString();
  const problems: Omit<ScenarioProblem, 'value'>[] = [];
  const names = new Set<string>();
  const out = faults.map((f, i) => {
    const from = at(f.from);
    const until = at(f.until);
    if (from < start || from >= end) problems.push({ path: `faults.${i}.from`, message: `is ${iso(from)}, outside the run (${iso(start)} → ${iso(end)}): move it inside` });
    else if (until <= from) problems.push({ path: `faults.${i}.until`, message: `is ${iso(until)}, not after from (${iso(from)})` });
    else if (until > end) problems.push({ path: `faults.${i}.until`, message: `is ${iso(until)}, after the end of the run (${iso(end)}): end the fault inside the run (heal always runs)` });
    const name = f.name ?? `${f.kind}-${i + 1}`;
    if (names.has(name)) problems.push({ path: `faults.${i}.name`, message: `"${name}" names two faults: give each its own name` });
    names.add(name);
    return { ...f, name, from, until } as TimedFault;
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, faults: out };
}

function valueAt(x: unknown, path: readonly PropertyKey[]): unknown {
  let cur = x;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
