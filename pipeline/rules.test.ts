import { describe, expect, it } from 'vitest';
import { compileRing } from './geometry.ts';
import { checkSilence, newSilenceState, noteReceived, watchdogPeriodMs } from './rules/communication-loss.ts';
import { evaluatePosition, type Zone, type ZoneStates } from './rules/exclusion-zone.ts';

const z1: Zone = { zoneId: 'z1', ring: compileRing([[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]) };
const z2: Zone = { zoneId: 'z2', ring: compileRing([[2.05, 48.05], [2.2, 48.05], [2.2, 48.2], [2.05, 48.2], [2.05, 48.05]]) };

describe('exclusion_zone_entry', () => {
  it('starts outside; entry alarms once, staying inside does not, exit clears, re-entry alarms again', () => {
    const s: ZoneStates = new Map();
    expect(evaluatePosition(47.9, 2.05, [z1], s)).toEqual([]);
    expect(evaluatePosition(48.05, 2.05, [z1], s)).toEqual([{ zoneId: 'z1', inside: true, alarm: true }]);
    expect(evaluatePosition(48.06, 2.06, [z1], s)).toEqual([]);
    expect(evaluatePosition(48.2, 2.06, [z1], s)).toEqual([{ zoneId: 'z1', inside: false, alarm: false }]);
    expect(evaluatePosition(48.2, 2.07, [z1], s)).toEqual([]);
    expect(evaluatePosition(48.05, 2.05, [z1], s)).toEqual([{ zoneId: 'z1', inside: true, alarm: true }]);
  });

  it('a first record inside raises (the state starts outside)', () => {
    expect(evaluatePosition(48.05, 2.05, [z1], new Map())).toEqual([{ zoneId: 'z1', inside: true, alarm: true }]);
  });

  it('a point on the boundary is inside', () => {
    const s: ZoneStates = new Map();
    expect(evaluatePosition(48.0, 2.05, [z1], s)).toEqual([{ zoneId: 'z1', inside: true, alarm: true }]);
    // Moving along the boundary stays inside.
    expect(evaluatePosition(48.1, 2.1, [z1], s)).toEqual([]);
  });

  it('GPS noise at the boundary raises one alarm per re-entry', () => {
    const s: ZoneStates = new Map();
    // Around the northern edge (lat 48.1): out, on it (inside), out, just in, just in, out, on it.
    const lats = [48.1000001, 48.1, 48.1000002, 48.0999999, 48.0999998, 48.1000001, 48.1];
    expect(lats.flatMap((lat, i) => (evaluatePosition(lat, 2.05, [z1], s).some((c) => c.alarm) ? [i] : []))).toEqual([1, 3, 6]);
  });

  it('zones are independent', () => {
    const s: ZoneStates = new Map();
    expect(evaluatePosition(48.02, 2.02, [z1, z2], s).map((c) => c.zoneId)).toEqual(['z1']);
    expect(evaluatePosition(48.07, 2.07, [z1, z2], s)).toEqual([{ zoneId: 'z2', inside: true, alarm: true }]);
    expect(evaluatePosition(48.15, 2.15, [z1, z2], s)).toEqual([{ zoneId: 'z1', inside: false, alarm: false }]);
    expect(s.get('z1')).toBe(false);
    expect(s.get('z2')).toBe(true);
  });

  it('a state restored as inside does not raise again', () => {
    const s: ZoneStates = new Map([['z1', true]]);
    expect(evaluatePosition(48.05, 2.05, [z1], s)).toEqual([]);
  });
});

describe('communication_loss', () => {
  const T = 600_000;

  it('a device never heard from is not watched', () => {
    expect(checkSilence(newSilenceState(), 1e15, T)).toBeNull();
  });

  it('fires once at L + timeout, naming the last record', () => {
    const s = newSilenceState();
    noteReceived(s, 1, 1000, 1000);
    noteReceived(s, 2, 5000, 5000);
    expect(checkSilence(s, 5000 + T - 1, T)).toBeNull();
    expect(checkSilence(s, 5000 + T, T)).toEqual({ seq: 2, deviceTime: 5000 });
    expect(checkSilence(s, 5000 + 10 * T, T)).toBeNull();
  });

  it('L is the highest seq received, not the latest to arrive', () => {
    const s = newSilenceState();
    noteReceived(s, 5, 50_000, 50_000);
    noteReceived(s, 3, 30_000, 51_000); // a gap filled later
    expect(checkSilence(s, 50_000 + T, T)).toEqual({ seq: 5, deviceTime: 50_000 });
  });

  it('re-arms only on a higher seq than the open alarm names; R unset before any alarm', () => {
    const s = newSilenceState();
    expect(noteReceived(s, 10, 100_000, 100_000)).toBe(false);
    expect(noteReceived(s, 11, 110_000, 110_000)).toBe(false);
    expect(s.rearmedAt).toBeNull();
    expect(checkSilence(s, 110_000 + T, T)?.seq).toBe(11);
    expect(noteReceived(s, 9, 90_000, 110_000 + 2 * T)).toBe(false); // an old resend: still open
    expect(checkSilence(s, 110_000 + 5 * T, T)).toBeNull();
    // A live record arriving at once: R = now = its time.
    expect(noteReceived(s, 12, 120_000 + 5 * T, 120_000 + 5 * T)).toBe(true);
    expect(s.rearmedAt).toBe(120_000 + 5 * T);
    expect(checkSilence(s, 120_000 + 6 * T - 1, T)).toBeNull();
    expect(checkSilence(s, 120_000 + 6 * T, T)).toEqual({ seq: 12, deviceTime: 120_000 + 5 * T });
  });

  it('a backlog draining after an outage raises no second alarm: the re-arm time R holds it off', () => {
    const s = newSilenceState();
    noteReceived(s, 1, 0, 0);
    expect(checkSilence(s, T, T)).toEqual({ seq: 1, deviceTime: 0 });
    // Back after 5 h. The outbox holds a record every 200 s of the outage (seq 2..91, device times
    // 200 s..5 h) and drains oldest first, 10 records a minute: each batch's L is hours old.
    const back = 5 * 3_600_000;
    const timeOf = (seq: number) => (seq - 1) * 200_000;
    for (let k = 0; k < 9; k++) {
      const now = back + k * 60_000;
      expect(checkSilence(s, now, T)).toBeNull();
      for (let seq = 2 + k * 10; seq < 12 + k * 10; seq++) noteReceived(s, seq, timeOf(seq), now);
      if (k < 8) expect(s.lastTime + T).toBeLessThanOrEqual(now); // L + T is past: without R this would raise
      expect(checkSilence(s, now, T)).toBeNull();
    }
    expect(s.rearmedAt).toBe(back);
    expect(s.lastTime).toBe(back);
    // Then nothing more: a genuinely new silence, raised at max(L, R) + T.
    expect(checkSilence(s, back + T - 1, T)).toBeNull();
    expect(checkSilence(s, back + T, T)).toEqual({ seq: 91, deviceTime: back });
  });

  it('a new silence after a re-arm is timed from L once the device is live again (L > R)', () => {
    const s = newSilenceState();
    noteReceived(s, 1, 0, 0);
    checkSilence(s, T, T);
    noteReceived(s, 2, 3 * T, 3 * T); // re-arm: R = 3T
    noteReceived(s, 3, 3 * T + 60_000, 3 * T + 60_000);
    expect(checkSilence(s, 4 * T + 59_999, T)).toBeNull();
    expect(checkSilence(s, 4 * T + 60_000, T)).toEqual({ seq: 3, deviceTime: 3 * T + 60_000 });
  });

  it('watchdog period: ~1 s real, at most 5 virtual s', () => {
    expect(watchdogPeriodMs(1)).toBe(1000);
    expect(watchdogPeriodMs(100)).toBe(50);
    expect(watchdogPeriodMs(1e6)).toBe(5);
  });
});
