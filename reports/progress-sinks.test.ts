import { describe, expect, it } from 'vitest';
import type { ProgressSample, ProgressSink } from './progress.ts';
import { fanOut } from './progress-sinks.ts';

const sample = { state: { virtualNow: 1 }, expected: [], observed: [] } as unknown as ProgressSample;

function recorder(): ProgressSink & { seen: string[] } {
  const seen: string[] = [];
  return { seen, update: (s) => void seen.push(`update ${s.state.virtualNow}`), end: () => void seen.push('end') };
}

describe('fanOut', () => {
  it('hands every sample to every sink, in order', () => {
    const a = recorder();
    const b = recorder();
    const out = fanOut([a, b], () => {});
    out.update(sample);
    out.end();
    expect(a.seen).toEqual(['update 1', 'end']);
    expect(b.seen).toEqual(['update 1', 'end']);
  });

  it('a sink that throws is reported once and dropped; the others go on', () => {
    const ok = recorder();
    const errors: unknown[] = [];
    const broken: ProgressSink = { update: () => { throw new Error('boom'); }, end: () => { throw new Error('never called'); } };
    const out = fanOut([broken, ok], (e) => errors.push(e));
    out.update(sample);
    out.update(sample);
    out.end();
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
    expect(ok.seen).toEqual(['update 1', 'update 1', 'end']);
  });
});
