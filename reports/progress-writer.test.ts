import { describe, expect, it } from 'vitest';
import { progressWriter, type ProgressStream } from './progress-writer.ts';
import type { ProgressState } from './progress.ts';

/** A stream that keeps what was written; `isTTY` and `columns` as a terminal (or not) would set them. */
function fakeStream(tty: { isTTY?: boolean; columns?: number } = {}): ProgressStream & { out: string } {
  const s = { ...tty, out: '', write: (chunk: string) => ((s.out += chunk), true) };
  return s;
}

function state(detected: number): ProgressState {
  return {
    phase: 'timeline', virtualNow: 5_000, from: 0, until: 10_000, speed: 1, messagesPerSecond: 10,
    devices: { connected: 3, total: 3 }, unacked: 0, alarms: { expected: 9, detected, pending: 9 - detected, overdue: 0 }, activeFaults: [], harness: null,
  };
}

// Any C0 control character or DEL but the newline.
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

describe('progressWriter on a terminal', () => {
  it('redraws one line in place: carriage return, the line, erase to its end — no newline between updates', () => {
    const s = fakeStream({ isTTY: true, columns: 200 });
    const w = progressWriter(s, { everyMs: 10_000, term: 'xterm' });
    expect(w.live).toBe(true);
    w.update(state(1));
    w.update(state(2));
    const frames = s.out.split('\r').filter((f) => f !== '');
    expect(frames).toHaveLength(2);
    expect(frames[0]).toContain('1 detected');
    expect(frames[1]).toContain('2 detected');
    for (const f of frames) expect(f.endsWith('\x1b[K')).toBe(true);
    expect(s.out).not.toContain('\n');
  });

  it('prints another log line above the live line, which it then redraws', () => {
    const s = fakeStream({ isTTY: true, columns: 200 });
    const w = progressWriter(s, { everyMs: 10_000, term: 'xterm' });
    w.update(state(1));
    s.out = '';
    w.log('feed: reconnected');
    expect(s.out).toMatch(/^\r\x1b\[Kfeed: reconnected\n\r.*1 detected.*\x1b\[K$/);
  });

  it('fits the line to one column short of the width, so the terminal never wraps it', () => {
    const s = fakeStream({ isTTY: true, columns: 40 });
    progressWriter(s, { everyMs: 10_000, term: 'xterm' }).update(state(1));
    expect(s.out.replace('\r', '').replace('\x1b[K', '')).toHaveLength(39);
  });

  it('ends by keeping the last line and moving to a new one', () => {
    const s = fakeStream({ isTTY: true, columns: 200 });
    const w = progressWriter(s, { everyMs: 10_000, term: 'xterm' });
    w.update(state(1));
    w.end();
    expect(s.out.endsWith('\n')).toBe(true);
    s.out = '';
    w.log('after');
    expect(s.out).toBe('after\n');
  });

  it('treats a dumb terminal as no terminal', () => {
    expect(progressWriter(fakeStream({ isTTY: true }), { everyMs: 1, term: 'dumb' }).live).toBe(false);
  });
});

describe('progressWriter elsewhere (CI, a pipe)', () => {
  it('prints a plain line once every everyMs, and the last state at the end, without a control character', () => {
    let now = 0;
    const s = fakeStream();
    const w = progressWriter(s, { everyMs: 10_000, now: () => now });
    expect(w.live).toBe(false);
    for (let i = 1; i <= 25; i++) {
      now = i * 1000;
      w.update(state(i % 9));
      if (i === 12) w.log('a log line');
    }
    w.end();
    const lines = s.out.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('1 detected'); // at 10 s
    expect(lines[1]).toBe('a log line');
    expect(lines[2]).toContain('2 detected'); // at 20 s
    expect(lines[3]).toContain('7 detected'); // the last sample, at 25 s: printed by end()
    expect(s.out).not.toMatch(CONTROL);
  });

  it('keeps its cadence when samples come a little early', () => {
    let now = 0;
    const s = fakeStream();
    const w = progressWriter(s, { everyMs: 1000, now: () => now });
    // Ten samples 999 ms apart, over 9.99 s: a line for each of the nine whole seconds, none skipped.
    for (let i = 1; i <= 10; i++) {
      now = i * 999;
      w.update(state(1));
    }
    expect(s.out.split('\n').filter((l) => l !== '')).toHaveLength(9);
  });

  it('prints no progress at all with everyMs 0', () => {
    let now = 0;
    const s = fakeStream();
    const w = progressWriter(s, { everyMs: 0, now: () => now });
    for (let i = 1; i < 100; i++) {
      now = i * 60_000;
      w.update(state(1));
    }
    expect(s.out).toBe('');
  });
});
