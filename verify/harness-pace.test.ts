import { describe, expect, it } from 'vitest';
import { harnessLagLimitMs, harnessPace } from './harness-pace.ts';
import type { LedgerEntry } from './ledger.ts';

const T0 = Date.UTC(2021, 9, 25, 12);
const MIN = 60_000;
const SLA = { strap_tamper: 180_000, late_return: 240_000, communication_loss: 240_000 };
const OFFLINE = 600_000;
const SPEED = 100;

const entry = (status: LedgerEntry['status'], kind: string, triggerMin: number): LedgerEntry => ({
  status, kind, deviceId: 'PSE-00001', seq: 1, deviceTime: T0 + triggerMin * MIN, triggerTime: T0 + triggerMin * MIN, detail: `${kind} ${status}`,
});

/** 60 minutes kept at 50 ms real (5 s virtual), except the given ones. */
function lagWith(behind: Record<number, number>): number[] {
  return Array.from({ length: 60 }, (_, m) => behind[m] ?? 50);
}

describe('whether the harness kept its clock', () => {
  it('is behind in a minute whose worst lag, in virtual time, is above a sixth of the tightest SLA', () => {
    expect(harnessLagLimitMs(SLA)).toBe(30_000);
    // At speed 100, 300 ms real is 30 s virtual: at the limit, not above it.
    const pace = harnessPace({ records: { from: T0, minuteMs: MIN, sent: [], resent: [], stored: [], lagMs: lagWith({ 3: 300, 4: 301 }) }, speed: SPEED, failures: [], slaMs: SLA, offlineTimeoutMs: OFFLINE })!;
    expect(pace.behindMinutes).toBe(1);
    expect(pace.behind).toEqual([{ from: '2021-10-25T12:04:00.000Z', until: '2021-10-25T12:05:00.000Z', lagMaxMs: 301 }]);
  });

  it('merges consecutive minutes into one span with its worst lag, and keeps apart spans with a kept minute between', () => {
    const lagMs = lagWith({ 10: 900, 11: 2560, 12: 400, 30: 1200 });
    const pace = harnessPace({ records: { from: new Date(T0).toISOString(), minuteMs: MIN, sent: [], resent: [], stored: [], lagMs }, speed: SPEED, failures: [], slaMs: SLA, offlineTimeoutMs: OFFLINE })!;
    expect(pace.lagMaxMs).toBe(2560);
    expect(pace.behindMinutes).toBe(4);
    expect(pace.behind).toEqual([
      { from: '2021-10-25T12:10:00.000Z', until: '2021-10-25T12:13:00.000Z', lagMaxMs: 2560 },
      { from: '2021-10-25T12:30:00.000Z', until: '2021-10-25T12:31:00.000Z', lagMaxMs: 1200 },
    ]);
  });

  it('counts a failed alarm as "while behind" when a behind minute lies between its evidence and its deadline', () => {
    const lagMs = lagWith({ 30: 2000 });
    const failures = [
      entry('late', 'late_return', 28), // due by 12:32: the 12:30 minute is inside
      entry('dropped', 'strap_tamper', 31), // its trigger after the lag, but the records before it were held
      entry('spurious', 'communication_loss', 40), // a silence from 12:30 to 12:40: the lag may have made it
      entry('late', 'late_return', 45), // from 12:35 (the offline timeout before) to 12:49: all kept
      entry('late', 'strap_tamper', 10), // long before
      entry('duplicate', 'strap_tamper', 30), // a late harness does not raise an alarm twice
      entry('late_allowed', 'strap_tamper', 30), // not a failure
    ];
    const pace = harnessPace({ records: { from: T0, minuteMs: MIN, sent: [], resent: [], stored: [], lagMs }, speed: SPEED, failures, slaMs: SLA, offlineTimeoutMs: OFFLINE })!;
    expect(pace.failures).toBe(5);
    expect(pace.failuresWhileBehind).toBe(3);
  });

  it('a harness that kept pace explains no failure; without a lag series (a run.json before it) it says nothing', () => {
    const records = { from: T0, minuteMs: MIN, sent: [1], resent: [0], stored: [1] };
    const kept = harnessPace({ records: { ...records, lagMs: lagWith({}) }, speed: SPEED, failures: [entry('late', 'late_return', 5)], slaMs: SLA, offlineTimeoutMs: OFFLINE })!;
    expect(kept).toMatchObject({ behindMinutes: 0, behind: [], failures: 1, failuresWhileBehind: 0, lagMaxMs: 50 });
    expect(harnessPace({ records, speed: SPEED, failures: [], slaMs: SLA, offlineTimeoutMs: OFFLINE })).toBeUndefined();
  });
});
