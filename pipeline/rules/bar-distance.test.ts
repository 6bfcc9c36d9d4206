import { describe, expect, it } from 'vitest';
import { EARTH_RADIUS_M } from '../geometry.ts';
import { ALERT, CLEAR, PERPETRATOR, PRE_ALERT, VICTIM, barDistance, barStep, evaluatePair, newBarState, type BarState, type StreamPosition } from './bar-distance.ts';

const A = 1000; // alertKm 1
const VICTIM_AT = { lat: 48.85, lon: 2.35 };
/** A point `m` metres due north of the victim: along a meridian the haversine distance is R·Δφ. */
const north = (m: number) => ({ lat: VICTIM_AT.lat + (m / EARTH_RADIUS_M) * (180 / Math.PI), lon: VICTIM_AT.lon });

describe('distance', () => {
  it('haversine on R = 6,371,008.8 m, rounded to the metre', () => {
    expect(barDistance(VICTIM_AT, north(1000))).toBe(1000);
    expect(barDistance(VICTIM_AT, north(1000.4))).toBe(1000);
    expect(barDistance(VICTIM_AT, north(1000.6))).toBe(1001);
    // One degree of longitude on the equator: R·π/180.
    expect(barDistance({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBe(Math.round((EARTH_RADIUS_M * Math.PI) / 180));
    // Paris–Lyon, about 392 km.
    expect(barDistance({ lat: 48.8566, lon: 2.3522 }, { lat: 45.764, lon: 4.8357 })).toBe(391_499);
  });
});

describe('the state machine', () => {
  it('exactly at A and at 2A after rounding counts as inside', () => {
    expect(barStep(CLEAR, barDistance(VICTIM_AT, north(1000.4)), A)).toEqual({ level: ALERT, alarm: 'bar_alert' });
    expect(barStep(CLEAR, barDistance(VICTIM_AT, north(1000.6)), A)).toEqual({ level: PRE_ALERT, alarm: 'bar_pre_alert' });
    expect(barStep(CLEAR, barDistance(VICTIM_AT, north(2000.4)), A)).toEqual({ level: PRE_ALERT, alarm: 'bar_pre_alert' });
    expect(barStep(CLEAR, barDistance(VICTIM_AT, north(2000.6)), A)).toEqual({ level: CLEAR, alarm: null });
  });

  it('every transition', () => {
    expect(barStep(CLEAR, 500, A)).toEqual({ level: ALERT, alarm: 'bar_alert' }); // straight to alert
    expect(barStep(PRE_ALERT, 500, A)).toEqual({ level: ALERT, alarm: 'bar_alert' }); // escalation
    expect(barStep(ALERT, 500, A)).toEqual({ level: ALERT, alarm: null });
    expect(barStep(CLEAR, 1500, A)).toEqual({ level: PRE_ALERT, alarm: 'bar_pre_alert' });
    expect(barStep(PRE_ALERT, 1500, A)).toEqual({ level: PRE_ALERT, alarm: null });
    expect(barStep(ALERT, 1500, A)).toEqual({ level: PRE_ALERT, alarm: null }); // de-escalation, silent
    expect(barStep(ALERT, 2001, A)).toEqual({ level: CLEAR, alarm: null });
    expect(barStep(PRE_ALERT, 2001, A)).toEqual({ level: CLEAR, alarm: null });
  });
});

describe('the pair stream', () => {
  const p = (seq: number, time: number, m: number): StreamPosition => ({ seq, time, ...north(m) });
  const v = (seq: number, time: number): StreamPosition => ({ seq, time, ...VICTIM_AT });
  const load = (perp: StreamPosition[], vict: StreamPosition[]): BarState => {
    const s = newBarState();
    s.queues[PERPETRATOR].push(...perp);
    s.queues[VICTIM].push(...vict);
    return s;
  };
  const brief = (s: BarState, W: number) => evaluatePair(s, A, W).map((a) => [a.kind, a.side, a.seq]);

  it('pre-alert then alert, de-escalation, alert again, clear, straight to alert', () => {
    const s = load(
      [p(1, 0, 5000), p(2, 60, 1800), p(3, 120, 900), p(4, 180, 1500), p(5, 240, 800), p(6, 300, 3000), p(7, 360, 1000)],
      [v(1, 0)],
    );
    expect(brief(s, 1000)).toEqual([
      ['bar_pre_alert', PERPETRATOR, 2], ['bar_alert', PERPETRATOR, 3], ['bar_alert', PERPETRATOR, 5], ['bar_alert', PERPETRATOR, 7],
    ]);
  });

  it('nothing before both units have a position; the later one then triggers', () => {
    const s = load([p(1, 0, 500), p(2, 10, 400)], [v(1, 20)]);
    expect(brief(s, 20)).toEqual([['bar_alert', VICTIM, 1]]);
  });

  it('ties in device time: the perpetrator first', () => {
    // At t = 60 both move: the perpetrator to 1,500 m north, the victim 1,000 m north. Perpetrator
    // first: 1,500 m (pre-alert by his record), then 500 m (alert by hers). The other way round it
    // would be 4,000 m, then 500 m: one alert, by his record.
    const s = load([p(1, 0, 5000), p(2, 60, 1500)], [v(1, 0), { seq: 2, time: 60, ...north(1000) }]);
    expect(brief(s, 60)).toEqual([['bar_pre_alert', PERPETRATOR, 2], ['bar_alert', VICTIM, 2]]);
  });

  it('stops at the watermark, inclusive, and resumes where it stopped', () => {
    const s = load([p(1, 0, 5000), p(2, 60, 1500), p(3, 120, 500)], [v(1, 0)]);
    expect(brief(s, 59)).toEqual([]);
    expect(s.consumedSeq).toEqual([1, 1]);
    expect(brief(s, 60)).toEqual([['bar_pre_alert', PERPETRATOR, 2]]);
    expect(s.queues[PERPETRATOR].map((r) => r.seq)).toEqual([3]);
    expect(brief(s, 1e9)).toEqual([['bar_alert', PERPETRATOR, 3]]);
    expect(s.queues[PERPETRATOR]).toEqual([]);
  });
});
