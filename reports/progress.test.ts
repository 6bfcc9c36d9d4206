import { describe, expect, it } from 'vitest';
import { ratePerSecond, renderProgress, type ProgressState } from './progress.ts';

const start = Date.parse('2021-10-25T12:00:00Z');
const hour = 3_600_000;

function state(over: Partial<ProgressState> = {}): ProgressState {
  return {
    phase: 'timeline', virtualNow: start + 2.5 * hour, from: start, until: start + 10 * hour, speed: 180,
    messagesPerSecond: 1234.4, devices: { connected: 299, total: 307 }, unacked: 17,
    alarms: { expected: 120, detected: 100, pending: 15, overdue: 5 }, activeFaults: ['network-update'], harness: { lagMs: 42, behind: false },
    ...over,
  };
}

describe('renderProgress', () => {
  it('says where the run is, how fast it goes, and how its alarms stand', () => {
    const line = renderProgress(state());
    expect(line).toContain('25%');
    expect(line).toContain('virtual 2021-10-25 14:30:00Z');
    // 7.5 virtual hours left at speed 180: 150 real seconds.
    expect(line).toContain('ETA 2 min 30 s');
    expect(line).toContain('alarms 120 expected, 100 detected, 15 pending, 5 overdue');
    expect(line).toContain('faults network-update');
    expect(line).toContain('1234 msg/s');
    expect(line).toContain('devices 299/307 connected');
    expect(line).toContain('17 unacked');
    expect(line).toContain('harness lag 0.04 s');
  });

  it('says loudly when the harness is behind its clock, and unknown for an observer', () => {
    expect(renderProgress(state({ harness: { lagMs: 4080, behind: true } }))).toMatch(/\|  harness BEHIND by 4\.08 s$/);
    expect(renderProgress(state({ harness: null }))).toMatch(/\|  harness unknown$/);
  });

  it('names every open fault, and says none when there is none', () => {
    expect(renderProgress(state({ activeFaults: ['a', 'b'] }))).toContain('faults a,b');
    expect(renderProgress(state({ activeFaults: [] }))).toContain('faults none');
  });

  it('clamps the percentage to 0–100 and the ETA at 0 outside the window', () => {
    expect(renderProgress(state({ virtualNow: start - hour }))).toMatch(/^0% /);
    const past = renderProgress(state({ virtualNow: start + 11 * hour }));
    expect(past).toMatch(/^100% /);
    expect(past).toContain('ETA 0 s');
  });

  it('in the drain, says what is left of the drain limit instead of a percentage', () => {
    const line = renderProgress(state({ phase: 'drain', virtualNow: start, from: start, until: start + 30 * 60_000, speed: 60 }));
    expect(line).toMatch(/^drain {2}virtual 2021-10-25 12:00:00Z {2}at most 30 s left/);
    expect(line).not.toContain('%');
  });

  it('is one line of printable ASCII', () => {
    expect(renderProgress(state({ activeFaults: ['x', 'y'] }))).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('ratePerSecond', () => {
  it('is the counter difference per real second, and 0 when no time passed', () => {
    expect(ratePerSecond({ count: 100, at: 1000 }, { count: 400, at: 1500 })).toBe(600);
    expect(ratePerSecond({ count: 100, at: 1000 }, { count: 400, at: 1000 })).toBe(0);
  });
});

describe('renderProgress of an observer (no fleet of its own)', () => {
  it('says unknown for what it cannot see, rather than zero', () => {
    const line = renderProgress(state({ messagesPerSecond: null, devices: { connected: null, total: 307 }, unacked: null }));
    expect(line).toContain('unknown msg/s');
    expect(line).toContain('devices unknown/307 connected');
    expect(line).toContain('unknown unacked');
    expect(line).not.toMatch(/\b0 (msg|unacked)/);
  });
});
