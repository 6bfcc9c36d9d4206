/**
 * bar_pre_alert and bar_alert, exactly as docs/RULES.md states them.
 *
 * The pair's stream is the position records of both units merged by device time (ties: the
 * perpetrator's first, then seq), evaluated only up to the watermark: the smaller of the two units'
 * latest contiguously-stored record times. Each unit's positions wait in a queue (in seq order, as the
 * per-device evaluation releases them) until the watermark reaches them, so the alarms do not depend
 * on which unit's records arrive first. At each stream record the distance between the latest
 * perpetrator and victim positions so far (haversine, rounded to the metre; nothing until both have
 * one) drives a state per pair: clear → pre-alert (d ≤ 2A) → alert (d ≤ A); A < d ≤ 2A from alert
 * de-escalates to pre-alert silently; d > 2A clears silently.
 * Written from RULES.md, independently of the oracle in sim/model.
 */
import { haversineMetres } from '../geometry.ts';

export const PERPETRATOR = 0;
export const VICTIM = 1;
export type Side = typeof PERPETRATOR | typeof VICTIM;

export const CLEAR = 0;
export const PRE_ALERT = 1;
export const ALERT = 2;
export type BarLevel = typeof CLEAR | typeof PRE_ALERT | typeof ALERT;

export type BarAlarmKind = 'bar_pre_alert' | 'bar_alert';

/** A unit's position record as the stream needs it. */
export interface StreamPosition {
  readonly seq: number;
  readonly time: number;
  readonly lat: number;
  readonly lon: number;
}

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

export interface BarState {
  level: BarLevel;
  /** Latest position of each unit so far in the stream (index: Side), null before its first. */
  readonly latest: [LatLon | null, LatLon | null];
  /** Seq of each unit's last position taken into the stream (0: none). */
  readonly consumedSeq: [number, number];
  /** Each unit's contiguously-stored positions not yet in the stream, in seq order. */
  readonly queues: [StreamPosition[], StreamPosition[]];
}

export function newBarState(): BarState {
  return { level: CLEAR, latest: [null, null], consumedSeq: [0, 0], queues: [[], []] };
}

/** One step of the state machine at distance `d` (whole metres) with alert distance `alertM`. */
export function barStep(level: BarLevel, d: number, alertM: number): { level: BarLevel; alarm: BarAlarmKind | null } {
  if (d <= alertM) return level === ALERT ? { level, alarm: null } : { level: ALERT, alarm: 'bar_alert' };
  if (d <= 2 * alertM) return level === CLEAR ? { level: PRE_ALERT, alarm: 'bar_pre_alert' } : { level: PRE_ALERT, alarm: null };
  return { level: CLEAR, alarm: null };
}

/** RULES.md: the distance between two positions, rounded to the nearest metre. */
export function barDistance(a: LatLon, b: LatLon): number {
  return Math.round(haversineMetres(a.lat, a.lon, b.lat, b.lon));
}

export interface BarAlarm {
  readonly kind: BarAlarmKind;
  /** The unit whose stream record triggered it, and that record. */
  readonly side: Side;
  readonly seq: number;
  readonly time: number;
}

/**
 * Takes every queued position with device time ≤ `watermark` into the stream, in stream order, and
 * returns the alarms they raise. A queue is consumed as a prefix: a position waits behind an earlier
 * (by seq) one that is still above the watermark.
 */
export function evaluatePair(s: BarState, alertM: number, watermark: number): BarAlarm[] {
  const alarms: BarAlarm[] = [];
  const [pq, vq] = s.queues;
  let pi = 0;
  let vi = 0;
  for (;;) {
    const p = pq[pi];
    const v = vq[vi];
    const pReady = p !== undefined && p.time <= watermark;
    const vReady = v !== undefined && v.time <= watermark;
    let side: Side;
    let r: StreamPosition;
    if (pReady && (!vReady || p.time <= v.time)) {
      side = PERPETRATOR;
      r = p;
      pi++;
    } else if (vReady) {
      side = VICTIM;
      r = v;
      vi++;
    } else {
      break;
    }
    s.latest[side] = { lat: r.lat, lon: r.lon };
    s.consumedSeq[side] = r.seq;
    const [a, b] = s.latest;
    if (a === null || b === null) continue;
    const step = barStep(s.level, barDistance(a, b), alertM);
    s.level = step.level;
    if (step.alarm) alarms.push({ kind: step.alarm, side, seq: r.seq, time: r.time });
  }
  if (pi > 0) pq.splice(0, pi);
  if (vi > 0) vq.splice(0, vi);
  return alarms;
}
