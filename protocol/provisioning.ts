/**
 * Provisioning (harness → pipeline) and the ingest summary (pipeline → harness), over HTTP with
 * `Authorization: Bearer {token}`. DESIGN.md "Operator feed"; user contract in docs/PROTOCOL.md.
 *
 *   POST {base}/api/v1/provision        body: Provisioning      → ProvisioningResult
 *   GET  {base}/api/v1/ingest/summary                           → IngestSummary
 *   GET  {base}/api/v1/health                                   → Health (no token needed)
 */
import { z } from 'zod';
import { DEVICE_ID } from './uplink.ts';

export const PROVISION_PATH = '/api/v1/provision';
export const SUMMARY_PATH = '/api/v1/ingest/summary';
export const HEALTH_PATH = '/api/v1/health';

const LonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);

export const Provisioning = z.object({
  /** A new run id starts a new fleet: the pipeline forgets the previous run's devices and state. */
  runId: z.string().min(1),
  clock: z.object({
    startVirtual: z.number(),
    startReal: z.number(),
    speed: z.number().positive(),
  }),
  /** Silence (virtual ms since the device time of the last record received) before communication_loss. */
  offlineTimeoutMs: z.number().int().positive(),
  devices: z.array(z.object({
    deviceId: z.string().regex(DEVICE_ID),
    type: z.enum(['pse', 'psem', 'bar']),
  })).min(1),
  zones: z.array(z.object({
    zoneId: z.string().min(1),
    kind: z.literal('exclusion'),
    deviceId: z.string().regex(DEVICE_ID),
    /** A closed ring of [lon, lat] (GeoJSON order), at least 3 distinct corners. */
    polygon: z.array(LonLat).min(4),
  })),
});
export type Provisioning = z.infer<typeof Provisioning>;

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
