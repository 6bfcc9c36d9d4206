import { afterEach, describe, expect, it, vi } from 'vitest';
import { DialPacer } from './dial-pacer.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('DialPacer', () => {
  it('lets dials out at its rate, in the order asked, however many are queued at once', () => {
    vi.useFakeTimers({ now: 0 });
    const pacer = new DialPacer(1000);
    const order: number[] = [];
    for (let i = 0; i < 300; i++) pacer.request(() => order.push(i));
    // The first goes at once; the rest wait for the next slice, which may spend the full bucket
    // (30 ms of dials at 1000/s) and no more.
    expect(order.length).toBe(1);
    vi.advanceTimersByTime(10);
    expect(order.length).toBe(1 + 30);
    // 100 ms in all: about 100 dials, never more than the rate plus one bucket.
    vi.advanceTimersByTime(90);
    expect(order.length).toBeGreaterThanOrEqual(100);
    expect(order.length).toBeLessThanOrEqual(131);
    vi.advanceTimersByTime(1000);
    expect(order).toEqual([...Array(300).keys()]);
    expect(pacer.waiting).toBe(0);
  });

  it('does not let a stalled loop make up for lost time in one burst', () => {
    vi.useFakeTimers({ now: 0 });
    const pacer = new DialPacer(3000);
    let dialled = 0;
    for (let i = 0; i < 1000; i++) pacer.request(() => dialled++);
    const first = dialled;
    // The loop stalls for a whole second: the next slice may catch up by one burst (≤ 80), not 3,000.
    vi.setSystemTime(1000);
    vi.advanceTimersToNextTimer();
    expect(dialled - first).toBeLessThanOrEqual(80);
  });

  it('dials a lone request at once, and stops its timer once nothing waits', () => {
    vi.useFakeTimers({ now: 0 });
    const pacer = new DialPacer(10);
    let dialled = 0;
    pacer.request(() => dialled++);
    expect(dialled).toBe(1);
    vi.advanceTimersByTime(50);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drops what waits when cleared', () => {
    vi.useFakeTimers({ now: 0 });
    const pacer = new DialPacer(100);
    let dialled = 0;
    for (let i = 0; i < 50; i++) pacer.request(() => dialled++);
    pacer.clear();
    vi.advanceTimersByTime(5000);
    expect(dialled).toBe(1);
    expect(pacer.waiting).toBe(0);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new DialPacer(0)).toThrow(/dial rate must be > 0/);
  });
});
