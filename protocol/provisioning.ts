/**
 * Provisioning (harness → pipeline) and the ingest summary (pipeline → harness), over HTTP with
 * `Authorization: Bearer {token}`. DESIGN.md "Operator feed"; user contract in docs/PROTOCOL.md.
 *
 *   POST {base}/api/v1/provision        body: Provisioning      → ProvisioningResult
 *   GET  {base}/api/v1/ingest/summary                           → IngestSummary
 *   GET  {base}/api/v1/health                                   → Health (no token needed)
 *
 * The schema is the one place bad provisioning is caught: the harness validates with it before a
 * run starts, the reference pipeline again on POST. Every message names the field, the allowed
 * values and the fix.
 */
import { z } from 'zod';
import { DEVICE_ID } from './uplink.ts';

export const PROVISION_PATH = '/api/v1/provision';
export const SUMMARY_PATH = '/api/v1/ingest/summary';
export const HEALTH_PATH = '/api/v1/health';

const LonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
const LatLonPoint = z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

/** A closed GeoJSON ring ([lon, lat]) with at least 3 distinct corners. */
const Ring = z.array(LonLat).superRefine((ring, ctx) => {
  const distinct = new Set(ring.map(([lon, lat]) => `${lon},${lat}`)).size;
  const closed = ring.length > 0 && ring[0]?.[0] === ring.at(-1)?.[0] && ring[0]?.[1] === ring.at(-1)?.[1];
  if (distinct < 3 || !closed) {
    ctx.addIssue({
      code: 'custom',
      message: `a zone needs a closed ring of at least 3 distinct corners as [lon, lat], the last equal to the first; got ${ring.length} point${ring.length === 1 ? '' : 's'}${closed ? '' : ', not closed'}`,
    });
  }
});

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time "HH:MM" (00:00–23:59)');

/**
 * A weekly window in local time (Provisioning.timeZone). It starts on each listed ISO weekday
 * (Monday = 1 … Sunday = 7) at `from` and ends at `to` the same day, or the next day when
 * `crossesMidnight` is true. docs/RULES.md "Local-time windows" says how DST nights are handled.
 */
export const Window = z.object({
  days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5, 6, 7]),
  from: HHMM,
  to: HHMM,
  crossesMidnight: z.boolean().default(false),
}).superRefine((w, ctx) => {
  if (w.to <= w.from && !w.crossesMidnight) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: `ends (${w.to}) before it starts (${w.from}) without crossing midnight: set crossesMidnight: true for an overnight window, or fix from/to` });
  }
  if (w.to > w.from && w.crossesMidnight) {
    ctx.addIssue({ code: 'custom', path: ['crossesMidnight'], message: `is true but ${w.to} is after ${w.from} on the same day: drop crossesMidnight or fix from/to` });
  }
});
export type Window = z.infer<typeof Window>;

const deviceId = z.string().regex(DEVICE_ID, 'expected a device id: 1–64 letters, digits, "-" or "_"');

/** The mobile operator whose network carries the device (DOMAIN.md: France uses a single one, with roaming). */
export const DEFAULT_OPERATOR = 'operator-1';
const operator = z.string().regex(DEVICE_ID, 'expected an operator id: 1–64 letters, digits, "-" or "_"').default(DEFAULT_OPERATOR);

/**
 * The middle of a zone's ring ([lon, lat] corners, a closing point counted once): the mean of its
 * corners — where a visit to a zone heads, where a map places it. Not a geodesic centroid: a zone
 * is a few km wide.
 */
export function ringCentre(ring: readonly (readonly [number, number])[]): { lat: number; lon: number } {
  const first = ring[0];
  const last = ring[ring.length - 1];
  const corners = ring.length > 1 && first?.[0] === last?.[0] && first?.[1] === last?.[1] ? ring.slice(0, -1) : ring;
  const lon = corners.reduce((n, c) => n + c[0], 0) / corners.length;
  const lat = corners.reduce((n, c) => n + c[1], 0) / corners.length;
  return { lat, lon };
}

/**
 * The seq of the first record this run can expect from the device (default 1). A device with a
 * history before the run — a real bracelet, whose seq never goes back (DESIGN.md "Uplink") —
 * starts past 1: every seq below it counts as stored and evaluated before the run (docs/RULES.md
 * "Evaluation order"), so it is acknowledged from the start and no gap waits for it.
 */
const firstSeq = z.number().int().min(1).optional();

export const ProvisionedDevice = z.discriminatedUnion('type', [
  z.object({
    deviceId,
    operator,
    firstSeq,
    type: z.literal('pse'),
    /** Where the home unit is installed: the wearer's home. */
    // Checked in the top-level refinement: zod skips an absent optional key's own checks.
    home: z.preprocess((h) => h ?? undefined, LatLonPoint.optional()),
  }),
  z.object({ deviceId, operator, firstSeq, type: z.literal('psem') }),
  z.object({ deviceId, operator, firstSeq, type: z.literal('bar_perpetrator') }),
  z.object({ deviceId, operator, firstSeq, type: z.literal('bar_victim') }),
]);
export type ProvisionedDevice = z.infer<typeof ProvisionedDevice>;

export const Zone = z.object({
  zoneId: z.string().min(1),
  /** exclusion: must never be entered. inclusion: must be inside during its windows (always, without). */
  kind: z.enum(['exclusion', 'inclusion']),
  deviceId,
  polygon: Ring,
  windows: z.array(Window).min(1).optional(),
});
export type Zone = z.infer<typeof Zone>;

export const Curfew = z.object({
  /** A PSE device: the wearer must be at home during every window. */
  deviceId,
  windows: z.array(Window).min(1),
});
export type Curfew = z.infer<typeof Curfew>;

export const BarPair = z.object({
  pairId: z.string().min(1),
  perpetratorId: deviceId,
  victimId: deviceId,
  /** DOMAIN.md: the judge sets a whole number of km from 1 to 10; the pre-alert distance is exactly twice it. */
  alertKm: z.number().refine((n) => Number.isInteger(n) && n >= 1 && n <= 10, {
    message: 'the alert distance is a whole number of km from 1 to 10 (the pre-alert distance is twice it)',
  }),
});
export type BarPair = z.infer<typeof BarPair>;

export const Provisioning = z.object({
  /** A new run id starts a new fleet: the pipeline forgets the previous run's devices and state. */
  runId: z.string().min(1),
  clock: z.object({
    startVirtual: z.number(),
    startReal: z.number(),
    speed: z.number().positive(),
  }),
  /** IANA time zone of every local-time window (curfews, inclusion-zone windows). */
  timeZone: z.literal('Europe/Paris').default('Europe/Paris'),
  /** Silence (virtual ms since the device time of the last record received) before communication_loss. */
  offlineTimeoutMs: z.number().int().positive(),
  /**
   * mass_communication_loss (docs/RULES.md): raised when at least max(minDevices, ⌈share × N⌉) of
   * an operator's N devices have a communication_loss open at once.
   */
  massCommunicationLoss: z.object({
    share: z.number().gt(0).max(1),
    minDevices: z.number().int().min(1),
  }).default({ share: 0.1, minDevices: 5 }),
  devices: z.array(ProvisionedDevice).min(1),
  zones: z.array(Zone).default([]),
  curfews: z.array(Curfew).default([]),
  barPairs: z.array(BarPair).default([]),
}).superRefine((p, ctx) => {
  const types = new Map<string, string>();
  p.devices.forEach((d, i) => {
    if (d.type === 'pse' && d.home === undefined) {
      ctx.addIssue({ code: 'custom', path: ['devices', i, 'home'], message: 'a PSE wearer needs a home: { lat, lon } where the home unit is installed' });
    }
    if (types.has(d.deviceId)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'deviceId'], message: `"${d.deviceId}" is provisioned twice` });
    types.set(d.deviceId, d.type);
  });
  const expectType = (path: (string | number)[], id: string, allowed: string[]): void => {
    const t = types.get(id);
    if (t === undefined) ctx.addIssue({ code: 'custom', path, message: `"${id}" is not a provisioned device` });
    else if (!allowed.includes(t)) ctx.addIssue({ code: 'custom', path, message: `"${id}" is a ${t} device; expected ${allowed.join(' or ')}` });
  };
  const seen = new Set<string>();
  p.zones.forEach((z, i) => {
    const key = `${z.deviceId}|${z.zoneId}`;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['zones', i, 'zoneId'], message: `zone "${z.zoneId}" is provisioned twice for ${z.deviceId}` });
    seen.add(key);
    expectType(['zones', i, 'deviceId'], z.deviceId, ['psem']);
    if (z.kind === 'exclusion' && z.windows) ctx.addIssue({ code: 'custom', path: ['zones', i, 'windows'], message: 'exclusion zones apply at all times: remove windows, or make the zone an inclusion zone' });
  });
  p.curfews.forEach((c, i) => expectType(['curfews', i, 'deviceId'], c.deviceId, ['pse']));
  const pairs = new Set<string>();
  p.barPairs.forEach((b, i) => {
    if (pairs.has(b.pairId)) ctx.addIssue({ code: 'custom', path: ['barPairs', i, 'pairId'], message: `pair "${b.pairId}" is provisioned twice` });
    pairs.add(b.pairId);
    expectType(['barPairs', i, 'perpetratorId'], b.perpetratorId, ['bar_perpetrator']);
    expectType(['barPairs', i, 'victimId'], b.victimId, ['bar_victim']);
  });
});
export type Provisioning = z.infer<typeof Provisioning>;
export type ProvisioningInput = z.input<typeof Provisioning>;

/** One line per problem: `field.path: message`. */
export function provisioningProblems(input: unknown): string[] {
  const r = Provisioning.safeParse(input);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.join('.') || '(provisioning)'}: ${i.message}`);
}

export interface ProvisioningResult {
  readonly ok: true;
  /** The feed's head cursor when the run was provisioned: the harness reads the feed from here. */
  readonly feedCursor: number;
}

export interface DeviceIngest {
  /** Highest seq such that 1..contiguousSeq are all stored. */
  readonly contiguousSeq: number;
  /** Highest seq stored. */
  readonly maxSeq: number;
  /** Records stored. */
  readonly stored: number;
  /** Missing ranges above contiguousSeq, inclusive: [from, to]. */
  readonly gaps: readonly (readonly [number, number])[];
}

export interface IngestSummary {
  readonly runId: string | null;
  readonly devices: Readonly<Record<string, DeviceIngest>>;
}

export interface Health {
  readonly ok: boolean;
  readonly server: string;
  readonly version: string;
  readonly runId: string | null;
}
