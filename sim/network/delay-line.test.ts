import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rng } from '../model/random.ts';
import { DelayLine } from './delay-line.ts';
import { composePolicy, newFaultStats, type Fault, type FaultEffect } from './effects.ts';

const fault = (id: string, effect: FaultEffect): Fault => ({ id, effect, devices: new Set(), stats: newFaultStats(effect.kind) });

describe('DelayLine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function line(): { dl: DelayLine; got: { at: number; text: string }[] } {
    const got: { at: number; text: string }[] = [];
    const r = rng(42);
    const dl = new DelayLine((b) => got.push({ at: Date.now(), text: b.toString() }), () => r.next(), () => Date.now());
    return { dl, got };
  }

  it('keeps order under jitter, and no chunk arrives before delay − jitter', async () => {
    const { dl, got } = line();
    const p = composePolicy([fault('lat', { kind: 'latency', delayMs: 1000, jitterMs: 900 })], 10); // 100 ± 90 real ms
    const sentAt = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      sentAt.set(String(i), Date.now());
      dl.push(Buffer.from(String(i)), p);
      await vi.advanceTimersByTimeAsync(3);
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(got.map((g) => g.text)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    for (const g of got) expect(g.at - sentAt.get(g.text)!).toBeGreaterThanOrEqual(10);
    expect(dl.length).toBe(0);
  });

  it('paces bytes at the bandwidth, in pieces', async () => {
    const { dl, got } = line();
    const p = composePolicy([fault('bw', { kind: 'bandwidth', bytesPerS: 10_000 })], 1);
    dl.push(Buffer.alloc(20_000, 0x61), p);
    await vi.advanceTimersByTimeAsync(1000);
    const half = got.reduce((n, g) => n + g.text.length, 0);
    expect(half).toBeGreaterThan(0);
    expect(half).toBeLessThanOrEqual(10_000);
    await vi.advanceTimersByTimeAsync(1100);
    expect(got.reduce((n, g) => n + g.text.length, 0)).toBe(20_000);
  });

  it('delays a lost segment by the retransmission time and holds back what follows', async () => {
    const { dl, got } = line();
    const lossy = composePolicy([fault('loss', { kind: 'loss', rate: 1, retransmitMs: 500 })], 1);
    const clean = composePolicy([], 1);
    dl.push(Buffer.from('lost'), lossy);
    dl.push(Buffer.from('behind'), clean);
    await vi.advanceTimersByTimeAsync(499);
    expect(got).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(got.map((g) => g.text)).toEqual(['lost', 'behind']);
  });
});
