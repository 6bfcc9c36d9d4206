import { describe, expect, it } from 'vitest';
import { deviceAbsences, drainedBy, massEpisodes, massThreshold, SilenceTracker, type Forwarded } from './absence.ts';

const MIN = 60_000;
const T = 10 * MIN;
const TOL = MIN;
const opts = { offlineTimeoutMs: T, toleranceMs: TOL, end: 600 * MIN, finalAt: 610 * MIN };
/** A run that ends with the stream: the last records' silence is due after the end, not judged. */
const short = { ...opts, end: 125 * MIN, finalAt: 130 * MIN };

/** One record a minute, forwarded as made, except while the path is cut in [cutFrom, cutUntil). */
function stream(minutes: number, cut?: [number, number]): Forwarded[] {
  const out: Forwarded[] = [];
  let seq = 0;
  const backlog: number[] = [];
  for (let m = 0; m < minutes; m++) {
    seq++;
    backlog.push(seq);
    if (cut && m >= cut[0] && m < cut[1]) continue;
    // Everything held goes out now, the last record of the batch decides.
    out.push({ at: m * MIN, seq: backlog.at(-1) as number, time: (backlog.at(-1) as number - 1) * MIN });
    backlog.length = 0;
  }
  return out;
}

/**
 * The pipeline killed at minute 20 and watching again from minute `w` (docs/RULES.md "Watching
 * since"). The device stops being forwarded at minute 32: its send window filled with no ack
 * coming, as store-and-forward firmware does while no pipeline answers.
 */
function throughRestart(w: number, resumeAt: number, o: Partial<typeof opts> = {}): ReturnType<typeof deviceAbsences> {
  const f: Forwarded[] = [];
  for (let m = 0; m <= 32; m++) f.push({ at: m * MIN, seq: m + 1, time: m * MIN });
  for (let m = resumeAt; m < resumeAt + 5; m++) f.push({ at: m * MIN, seq: m + 1, time: m * MIN });
  // The timeline ends 8 minutes after the device's last record: that silence is not judged.
  return deviceAbsences('D', f, { ...opts, end: (resumeAt + 12) * MIN, finalAt: (resumeAt + 15) * MIN, ...o, restarts: [{ killedAt: 20 * MIN, watchingFrom: w * MIN }] });
}

describe('communication_loss across a pipeline restart (the new process watches from W)', () => {
  it('a silence the pipeline did not watch is owed nothing: W at 45, the device back at 46 (the CI failure of ca7e819)', () => {
    // Without W the alarm would be required at 42 (32 + 10): the pipeline was down then.
    expect(throughRestart(45, 46)).toEqual([]);
    expect(deviceAbsences('D', [{ at: 32 * MIN, seq: 33, time: 32 * MIN }, { at: 46 * MIN, seq: 47, time: 46 * MIN }], { ...opts, end: 50 * MIN, finalAt: 55 * MIN }))
      .toEqual([{ deviceId: 'D', seq: 33, deviceTime: 32 * MIN, triggerTime: 42 * MIN, required: true, until: 46 * MIN }]);
  });

  it('a device still silent 10 minutes after W is owed its alarm then, naming its last record', () => {
    expect(throughRestart(45, 60)).toEqual([{ deviceId: 'D', seq: 33, deviceTime: 32 * MIN, triggerTime: 55 * MIN, required: true, until: 60 * MIN }]);
  });

  it('while no new process watches, no silence is due; at the final read it is judged with the W said', () => {
    const f: Forwarded[] = [{ at: 32 * MIN, seq: 33, time: 32 * MIN }];
    const o = { ...opts, end: 100 * MIN, finalAt: 110 * MIN };
    expect(deviceAbsences('D', f, { ...o, restarts: [{ killedAt: 20 * MIN, watchingFrom: undefined }] })).toEqual([]);
    expect(deviceAbsences('D', f, { ...o, restarts: [{ killedAt: 20 * MIN, watchingFrom: 45 * MIN }] }))
      .toEqual([{ deviceId: 'D', seq: 33, deviceTime: 32 * MIN, triggerTime: 55 * MIN, required: true, until: Infinity }]);
  });

  it('an alarm due before the kill was the killed process\'s to raise: the restart does not move it', () => {
    // Silent from minute 5: due at 15, five minutes before the kill at 20.
    const f: Forwarded[] = [{ at: 5 * MIN, seq: 1, time: 5 * MIN }, { at: 50 * MIN, seq: 2, time: 50 * MIN }];
    expect(deviceAbsences('D', f, { ...opts, end: 55 * MIN, finalAt: 60 * MIN, restarts: [{ killedAt: 20 * MIN, watchingFrom: 45 * MIN }] }))
      .toEqual([{ deviceId: 'D', seq: 1, deviceTime: 5 * MIN, triggerTime: 15 * MIN, required: true, until: 50 * MIN }]);
  });

  it('due within the tolerance after the kill: the dying process may have raised it, so a short silence is optional', () => {
    // Silent from 10:30: due at 20:30, half a minute after the kill at 20; back at 40, before W + 10 = 55.
    const f: Forwarded[] = [{ at: 10.5 * MIN, seq: 1, time: 10.5 * MIN }, { at: 40 * MIN, seq: 2, time: 40 * MIN }];
    const o = { ...opts, end: 50 * MIN, finalAt: 52 * MIN, restarts: [{ killedAt: 20 * MIN, watchingFrom: 45 * MIN }] };
    expect(deviceAbsences('D', f, o)).toEqual([{ deviceId: 'D', seq: 1, deviceTime: 10.5 * MIN, triggerTime: 20.5 * MIN, required: false, until: 40 * MIN }]);
    // Still silent past W + 10: required either way, due by the later deadline.
    const g: Forwarded[] = [f[0] as Forwarded, { at: 70 * MIN, seq: 2, time: 70 * MIN }];
    expect(deviceAbsences('D', g, { ...o, end: 75 * MIN, finalAt: 80 * MIN })).toEqual([{ deviceId: 'D', seq: 1, deviceTime: 10.5 * MIN, triggerTime: 55 * MIN, required: true, until: 70 * MIN }]);
  });

  it('the tracker applies a restart to every device from when it is told, live', () => {
    const tr = new SilenceTracker({ offlineTimeoutMs: T, toleranceMs: TOL, end: 100 * MIN });
    for (const id of ['A', 'B']) tr.watch(id);
    for (const id of ['A', 'B']) tr.forwarded(id, { at: 32 * MIN, seq: 33, time: 32 * MIN });
    tr.pipelineKilled(20 * MIN);
    tr.pipelineWatching(45 * MIN);
    tr.forwarded('A', { at: 46 * MIN, seq: 47, time: 46 * MIN });
    tr.forwarded('B', { at: 60 * MIN, seq: 61, time: 60 * MIN });
    expect(tr.finish(110 * MIN).filter((e) => e.until !== Infinity)).toEqual([{ deviceId: 'B', seq: 33, deviceTime: 32 * MIN, triggerTime: 55 * MIN, required: true, until: 60 * MIN }]);
  });
});

describe('communication_loss from what the network forwarded', () => {
  it('a healthy device has no absence', () => {
    expect(deviceAbsences('D', stream(120), short)).toEqual([]);
  });

  it('a 30-minute cut requires one alarm naming the last record forwarded before it, due 10 minutes after it', () => {
    const eps = deviceAbsences('D', stream(120, [30, 60]), short);
    expect(eps).toEqual([{ deviceId: 'D', seq: 30, deviceTime: 29 * MIN, triggerTime: 39 * MIN, required: true, until: 60 * MIN }]);
  });

  it('the backlog draining after the cut does not re-raise: the rule re-armed when it arrived', () => {
    // The backlog arrives in batches of old records, minutes apart in arrival but old in device time.
    const f: Forwarded[] = [{ at: 0, seq: 1, time: 0 }, { at: 40 * MIN, seq: 10, time: 9 * MIN }, { at: 41 * MIN, seq: 20, time: 19 * MIN }, { at: 42 * MIN, seq: 42, time: 41 * MIN }];
    const eps = deviceAbsences('D', f, { ...opts, end: 50 * MIN, finalAt: 52 * MIN });
    expect(eps.map((e) => e.seq)).toEqual([1]);
  });

  it('a silence ending within the tolerance of the deadline is optional, not required', () => {
    const f: Forwarded[] = [{ at: 0, seq: 1, time: 0 }, { at: T + 30_000, seq: 2, time: T + 30_000 }];
    const o = { ...opts, end: T + MIN, finalAt: T + 2 * MIN };
    expect(deviceAbsences('D', f, o)).toEqual([{ deviceId: 'D', seq: 1, deviceTime: 0, triggerTime: T, required: false, until: T + 30_000 }]);
    const g: Forwarded[] = [{ at: 0, seq: 1, time: 0 }, { at: T - 2 * TOL, seq: 2, time: T - 2 * TOL }];
    expect(deviceAbsences('D', g, o)).toEqual([]);
  });

  it('a device still silent at the final read owes an alarm; one due after the end of the timeline is not judged', () => {
    const f: Forwarded[] = [{ at: 0, seq: 1, time: 0 }];
    expect(deviceAbsences('D', f, opts)).toEqual([{ deviceId: 'D', seq: 1, deviceTime: 0, triggerTime: T, required: true, until: Infinity }]);
    const late: Forwarded[] = [{ at: 595 * MIN, seq: 1, time: 595 * MIN }];
    expect(deviceAbsences('D', late, opts)).toEqual([]);
  });

  it('the tracker gives the same episodes, and when the link came back and the backlog drained', () => {
    const tr = new SilenceTracker(short);
    const w = tr.expectHeal('cut', 'D', 60 * MIN);
    const f = stream(120, [30, 60]);
    for (const x of f) {
      if (x.at === 60 * MIN) w.need = 60; // the device had made 60 records at its heal
      tr.forwarded('D', x);
    }
    expect(tr.finish(short.finalAt)).toEqual(deviceAbsences('D', f, short));
    expect(tr.finish(short.finalAt)).toHaveLength(1);
    expect(w.linkBackAt).toBe(60 * MIN);
    expect(w.drainedAt).toBe(60 * MIN);
    expect(tr.isWatched('D')).toBe(true);
    expect(tr.isWatched('E')).toBe(false);
  });
});

describe('a backlog that arrives already past its deadline', () => {
  it('is not a required silence when the next record follows within the tolerance, and is when it does not', () => {
    // A device first heard through its backlog, 15 minutes behind: seq 50 is past its deadline on arrival.
    const base: Forwarded[] = [{ at: 100 * MIN, seq: 50, time: 85 * MIN }];
    const quick = deviceAbsences('D', [...base, { at: 100 * MIN + 4000, seq: 51, time: 88 * MIN }], short);
    expect(quick[0]).toMatchObject({ seq: 50, triggerTime: 100 * MIN, required: false });
    const slow = deviceAbsences('D', [...base, { at: 100 * MIN + short.toleranceMs + 1, seq: 51, time: 88 * MIN }], short);
    expect(slow[0]).toMatchObject({ seq: 50, triggerTime: 100 * MIN, required: true });
  });
});

describe('backlog drain after a heal', () => {
  it('a device that made nothing new since its last forward (silent on its own) is drained at its heal', () => {
    const tr = new SilenceTracker(short);
    const w = tr.expectHeal('cut', 'D', 60 * MIN);
    tr.forwarded('D', { at: 10 * MIN, seq: 5, time: 10 * MIN }); // its last record, before the fault
    w.need = 5; // made nothing after it (a flat battery)
    expect(drainedBy(w)).toBe(60 * MIN);
  });

  it('a device with a backlog drains when its last record made before the heal is forwarded after it', () => {
    const tr = new SilenceTracker(short);
    const w = tr.expectHeal('cut', 'D', 60 * MIN);
    tr.forwarded('D', { at: 10 * MIN, seq: 5, time: 10 * MIN });
    w.need = 9;
    expect(drainedBy(w)).toBeUndefined();
    tr.forwarded('D', { at: 61 * MIN, seq: 8, time: 30 * MIN });
    expect(drainedBy(w)).toBeUndefined();
    tr.forwarded('D', { at: 62 * MIN, seq: 9, time: 40 * MIN });
    expect(drainedBy(w)).toBe(62 * MIN);
  });
});

describe('mass communication loss bounds (docs/RULES.md)', () => {
  const o = { share: 0.1, minDevices: 5, slaMs: 4 * MIN, end: 600 * MIN };

  it('K is max(minDevices, ⌈share × N⌉), and never when K > N', () => {
    expect(massThreshold(40, 0.1, 5)).toBe(5);
    expect(massThreshold(15_000, 0.1, 5)).toBe(1500);
    expect(massThreshold(4, 0.1, 5)).toBe(Infinity);
    expect(massThreshold(100, 0.07, 1)).toBe(7);
  });

  it('required when K devices are surely silent; recovery due when the upper bound falls to ⌊K/2⌋', () => {
    const ivs = Array.from({ length: 6 }, (_, i) => ({ from: (10 + i) * MIN, until: (100 + i) * MIN, required: true }));
    const [ep, ...more] = massEpisodes('op', 40, ivs, o);
    expect(more).toEqual([]);
    expect(ep).toMatchObject({ required: true, mayFrom: 14 * MIN, trigger: 14 * MIN, recoveryTrigger: 103 * MIN, threshold: 5, peakSilent: 6 });
  });

  it('with optional devices the alarm may come earlier but is required only when the sure ones reach K', () => {
    const ivs = [
      ...Array.from({ length: 3 }, (_, i) => ({ from: (10 + i) * MIN, until: 100 * MIN, required: true })),
      ...Array.from({ length: 2 }, () => ({ from: 5 * MIN, until: 100 * MIN, required: false })),
    ];
    const [ep] = massEpisodes('op', 40, ivs, o);
    expect(ep).toMatchObject({ required: false, mayFrom: 12 * MIN, trigger: undefined });
    const more = [...ivs, { from: 20 * MIN, until: 100 * MIN, required: true }, { from: 30 * MIN, until: 100 * MIN, required: true }];
    expect(massEpisodes('op', 40, more, o)[0]).toMatchObject({ required: true, mayFrom: 12 * MIN, trigger: 30 * MIN });
  });

  it('hysteresis: one outage while the share hovers above ⌊K/2⌋; a second outage later is a second episode', () => {
    const wave = (at: number, n: number, until: number) => Array.from({ length: n }, () => ({ from: at, until, required: true }));
    const ivs = [...wave(10 * MIN, 3, 50 * MIN), ...wave(10 * MIN, 2, 30 * MIN), ...wave(200 * MIN, 5, 220 * MIN)];
    const eps = massEpisodes('op', 40, ivs, o);
    expect(eps.map((e) => [e.trigger, e.recoveryTrigger])).toEqual([[10 * MIN, 50 * MIN], [200 * MIN, 220 * MIN]]);
  });

  it('no episode below the threshold, none for a fleet smaller than K', () => {
    expect(massEpisodes('op', 40, [{ from: 0, until: MIN, required: true }], o)).toEqual([]);
    expect(massEpisodes('op', 3, Array.from({ length: 3 }, () => ({ from: 0, until: MIN, required: true })), o)).toEqual([]);
  });
});
