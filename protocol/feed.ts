/**
 * The operator feed: pipeline → operators' screens, and the harness (DESIGN.md "Operator feed").
 *
 * WebSocket at `{base}/api/v1/feed?after={cursor}` with `Authorization: Bearer {token}`.
 * Every message is one JSON object with a `type`. Alarms carry a `cursor` that increases strictly;
 * a client that reconnects with `after` = the last cursor it saw gets every alarm after it: no gap.
 */
import { z } from 'zod';
import { ALARM_KINDS } from './alarms.ts';

export const FEED_PATH = '/api/v1/feed';

export const FeedAlarm = z.object({
  type: z.literal('alarm'),
  /** Strictly increasing position in the feed; resume with `after=cursor`. */
  cursor: z.number().int().nonnegative(),
  /** The pipeline's id for this alarm; a replay after resume carries the same id. */
  alarmId: z.string().min(1),
  deviceId: z.string().min(1),
  kind: z.enum(ALARM_KINDS),
  /**
   * Seq of the record that triggered it (communication_loss: the last record heard; the fleet kinds
   * mass_communication_*: the outage's ordinal for the operator, and deviceId is the operator id).
   */
  seq: z.number().int().nonnegative(),
  /** Device (virtual) time of that record, ms since epoch (fleet kinds: the pipeline's virtual now at the threshold). */
  deviceTime: z.number(),
  /** Pipeline (virtual) time when the alarm was raised, ms since epoch. */
  raisedAt: z.number(),
  /** The zone, for zone alarms. */
  zoneId: z.string().optional(),
  /** The BAR pair, for bar_pre_alert and bar_alert. */
  pairId: z.string().optional(),
});
export type FeedAlarm = z.infer<typeof FeedAlarm>;

export const FeedHello = z.object({
  type: z.literal('hello'),
  /** The highest cursor the pipeline has raised so far. */
  head: z.number().int().nonnegative(),
  server: z.string(),
});
export type FeedHello = z.infer<typeof FeedHello>;

export const FeedPing = z.object({ type: z.literal('ping'), at: z.number() });

export const FeedMessage = z.discriminatedUnion('type', [FeedAlarm, FeedHello, FeedPing]);
export type FeedMessage = z.infer<typeof FeedMessage>;

export class FeedDecodeError extends Error {
  override readonly name = 'FeedDecodeError';
  readonly code = 'VIGIL_FEED_INVALID';
  constructor(readonly reason: string, readonly raw: string) {
    super(`invalid feed message: ${reason}`);
  }
}

/** Parses one feed message; throws FeedDecodeError naming what was wrong. */
export function decodeFeedMessage(raw: string): FeedMessage {
  let x: unknown;
  try {
    x = JSON.parse(raw);
  } catch {
    throw new FeedDecodeError('not JSON', raw.slice(0, 200));
  }
  const r = FeedMessage.safeParse(x);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new FeedDecodeError(`${issue?.path.join('.') || '(message)'}: ${issue?.message ?? 'invalid'}`, raw.slice(0, 200));
  }
  return r.data;
}

/** `path` under `base`, keeping any path prefix the base URL has (a pipeline behind a proxy). */
export function underBase(base: string, path: string): URL {
  return new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`);
}

export function feedUrl(base: string, after: number): string {
  const u = underBase(base, FEED_PATH);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('after', String(after));
  return u.toString();
}
