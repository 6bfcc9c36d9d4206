/**
 * The reference pipeline's admin API: pipeline-side fault modes, for replaying outages that sat
 * inside the monitoring centre rather than on the network (DOMAIN.md "Other outages": BI Inc., 5 Oct
 * 2010, a database record id hit its limit and notifications stopped while devices kept recording).
 * Only the reference pipeline (pipeline/) serves it; a contractor's pipeline does not need it.
 * User contract in docs/PROTOCOL.md "Reference pipeline: admin faults".
 *
 *   POST {base}/api/v1/admin/fault   body: PipelineFault   → PipelineFaultResult
 *
 * Bearer token as for provisioning; a bad body is a 400 `{ error, problems }` naming the field.
 */
import { z } from 'zod';

export const ADMIN_FAULT_PATH = '/api/v1/admin/fault';

/**
 * alarm-id-overflow: while active, records are still stored, acknowledged and evaluated (rule state
 * moves on) but every alarm the rules raise is lost, as an alarm insert failing on an exhausted id
 * would lose it: not stored, never on the feed, never raised later.
 *
 * slow-consumer: while active, the pipeline takes SLOW_CONSUMER_MS of real time over each uplink
 * message before it acknowledges it to the broker (PUBACK) and reads the next, so the broker's
 * queue for its session grows: mosquitto drops past `max_queued_messages` (DOMAIN.md, DESIGN.md
 * "slow consumer"). Not persisted: a restart ends it.
 */
export const PIPELINE_FAULT_KINDS = ['alarm-id-overflow', 'slow-consumer'] as const;

/** Real ms the slow consumer spends on each uplink message: at most 20 messages a second. */
export const SLOW_CONSUMER_MS = 50;
export type PipelineFaultKind = (typeof PIPELINE_FAULT_KINDS)[number];

export const PipelineFault = z.strictObject({
  kind: z.enum(PIPELINE_FAULT_KINDS, { error: `expected one of ${PIPELINE_FAULT_KINDS.map((k) => `"${k}"`).join(', ')}` }),
  active: z.boolean({ error: 'expected true (start the fault) or false (end it)' }),
});
export type PipelineFault = z.infer<typeof PipelineFault>;

export interface PipelineFaultResult {
  readonly ok: true;
  readonly kind: PipelineFaultKind;
  readonly active: boolean;
  /** False when the fault already was in the requested state (the request is idempotent). */
  readonly changed: boolean;
}

/** One line per problem: `field.path: message` (`(body)` for the body itself). */
export function pipelineFaultProblems(input: unknown): string[] {
  const r = PipelineFault.safeParse(input);
  if (r.success) return [];
  return r.error.issues.flatMap((i) => {
    // An unknown key is reported on the object: name the key itself.
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${[...i.path, k].join('.')}: not a field of a pipeline fault (kind, active)`);
    return [`${i.path.join('.') || '(body)'}: ${i.message}`];
  });
}
