import { describe, expect, it, vi } from 'vitest';
import { virtualClock } from '../../protocol/clock.ts';
import type { ProgressSample } from '../../reports/progress.ts';
import { alarmKey, type Expectation } from '../../sim/model/oracle/oracle.ts';
import type { Observation } from '../../verify/ledger.ts';
import { AlarmTally, dueBy, startRunProgress } from './run-progress.ts';

const sla = { strap_tamper: 180_000, communication_loss: 240_000 };
const e = (deviceId: string, kind: Expectation['kind'], seq: number, triggerTime: number): Expectation => ({ deviceId, kind, seq, deviceTime: triggerTime, triggerTime });

describe('AlarmTally', () => {
  it('splits the alarms expected so far into detected, pending (within SLA) and overdue (past it)', () => {
    const tally = new AlarmTally(sla, () => true);
    const expectations = [e('A', 'strap_tamper', 1, 0), e('B', 'strap_tamper', 2, 0), e('C', 'strap_tamper', 3, 100_000)];
    const observed = new Set([alarmKey(expectations[0]!)]);
    // At 150 s every SLA still holds.
    expect(tally.sample(expectations, observed, 150_000)).toEqual({ expected: 3, detected: 1, pending: 2, overdue: 0 });
    // At 200 s, B is past its 180 s SLA; C is not (triggered at 100 s).
    expect(tally.sample(expectations, observed, 200_000)).toEqual({ expected: 3, detected: 1, pending: 1, overdue: 1 });
    // B arrives late, and a new one is expected.
    observed.add(alarmKey(expectations[1]!));
    expectations.push(e('D', 'communication_loss', 9, 190_000));
    expect(tally.sample(expectations, observed, 300_000)).toEqual({ expected: 4, detected: 2, pending: 1, overdue: 1 });
  });

  it('leaves out an alarm the run judges otherwise, even once it was counted', () => {
    const watched = new Set<string>();
    const tally = new AlarmTally(sla, (x) => !(x.kind === 'communication_loss' && watched.has(x.deviceId)));
    const expectations = [e('A', 'communication_loss', 4, 0), e('A', 'strap_tamper', 5, 0)];
    expect(tally.sample(expectations, new Set(), 1000)).toMatchObject({ expected: 2, pending: 2 });
    watched.add('A');
    expect(tally.sample(expectations, new Set(), 1000)).toMatchObject({ expected: 1, pending: 1 });
  });
});

describe('dueBy', () => {
  it('hands an observer\'s seed expectations over as they fall due, in trigger order, on one growing list', () => {
    const all = [e('B', 'strap_tamper', 2, 300), e('A', 'strap_tamper', 1, 100), e('C', 'strap_tamper', 3, 200)];
    const due = dueBy(all);
    expect(due(50)).toEqual([]);
    const at200 = due(200);
    expect(at200.map((x) => x.deviceId)).toEqual(['A', 'C']);
    expect(due(1000)).toBe(at200);
    expect(at200.map((x) => x.deviceId)).toEqual(['A', 'C', 'B']);
  });
});

describe('startRunProgress', () => {
  it('hands one sample a second to the sink — the line\'s state and the run\'s own alarm lists — and a last one as it stops', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const clock = virtualClock({ startVirtual: 0, startReal: 0, speed: 60 });
      const samples: ProgressSample[] = [];
      let ended = 0;
      const expectations = [e('A', 'strap_tamper', 1, 0)];
      const observations: Observation[] = [];
      // An observer's source: no fleet.
      const p = startRunProgress({ update: (s) => void samples.push(s), end: () => void ended++ }, {
        clock, devicesTotal: 5, expectations: () => expectations, observations, observedKeys: new Set(), tally: new AlarmTally(sla, () => true), faults: [{ name: 'cut', from: 0, until: 90_000 }],
      }, { name: 'timeline', from: 0, until: 600_000 });
      vi.advanceTimersByTime(1000);
      vi.advanceTimersByTime(1000);
      expect(samples.map((s) => [s.state.virtualNow, s.state.activeFaults])).toEqual([[60_000, ['cut']], [120_000, []]]);
      expect(samples[0]!.expected).toBe(expectations);
      expect(samples[0]!.observed).toBe(observations);
      expect(samples[0]!.state).toMatchObject({ messagesPerSecond: null, devices: { connected: null, total: 5 }, unacked: null, alarms: { expected: 1, pending: 1 }, harness: null });
      vi.advanceTimersByTime(500);
      p.stop();
      p.stop();
      expect(samples.map((s) => s.state.virtualNow)).toEqual([60_000, 120_000, 150_000]);
      expect(ended).toBe(1);
      vi.advanceTimersByTime(5000);
      expect(samples).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows the fleet's worst wake lag of this minute and the last, BEHIND when over the limit in virtual time", () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const clock = virtualClock({ startVirtual: 0, startReal: 0, speed: 100 });
      const samples: ProgressSample[] = [];
      let lagMs = [900, 250, 40];
      const records = () => ({ from: 0, minuteMs: 60_000, sent: lagMs.map(() => 0), resent: lagMs.map(() => 0), stored: lagMs.map(() => 0), lagMs });
      const p = startRunProgress({ update: (s) => void samples.push(s), end: () => {} }, {
        clock, devicesTotal: 5, expectations: () => [], observations: [], observedKeys: new Set(), tally: new AlarmTally(sla, () => true), faults: [],
        fleet: () => ({ connected: 5, publishes: 0, unacked: 0 }), records, harnessLimitMs: 30_000,
      }, { name: 'timeline', from: 0, until: 600_000 });
      vi.advanceTimersByTime(1000);
      // The minute before last (900 ms) is over: 250 ms at speed 100 is 25 s virtual, under the 30 s limit.
      expect(samples[0]!.state.harness).toEqual({ lagMs: 250, behind: false });
      lagMs = [900, 250, 40, 310];
      vi.advanceTimersByTime(1000);
      expect(samples[1]!.state.harness).toEqual({ lagMs: 310, behind: true });
      p.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
