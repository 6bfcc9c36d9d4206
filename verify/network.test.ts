import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA_MS } from '../sim/model/defaults.ts';
import type { FeedAlarm } from '../protocol/feed.ts';
import { prepareNetwork, type NetworkInput } from './network.ts';
import type { AbsenceEpisode } from './absence.ts';
import type { Observation } from './ledger.ts';

const T0 = Date.parse('2021-10-25T14:00:00Z');
const MIN = 60_000;
const loss = (deviceId: string, seq: number, deviceTime: number, alarmId: string): Observation => ({
  alarm: { type: 'alarm', cursor: 1, alarmId, deviceId, kind: 'communication_loss', seq, deviceTime, raisedAt: deviceTime + 10 * MIN } as FeedAlarm,
  receivedAt: deviceTime + 10 * MIN + 1000,
});
const episode = (deviceId: string, seq: number, deviceTime: number): AbsenceEpisode => ({ deviceId, seq, deviceTime, triggerTime: deviceTime + 10 * MIN, required: true, until: Infinity });

function input(episodes: AbsenceEpisode[], observations: Observation[]): NetworkInput {
  return {
    faults: [], watched: new Set(episodes.map((e) => e.deviceId)), episodes, heal: () => undefined, operatorOf: new Map([['D', 'op']]), partnerOf: new Map(),
    expectations: [], observations, offlineTimeoutMs: 10 * MIN, toleranceMs: MIN, lateAllowanceMs: 10 * MIN,
    window: { start: T0, end: T0 + 600 * MIN }, finalAt: T0 + 610 * MIN, mass: { share: 0.1, minDevices: 5 }, slaMs: DEFAULT_SLA_MS,
  };
}

describe('absence expectations against what the pipeline heard', () => {
  it('a record the proxy forwarded but the pipeline never got (in flight when a broker died): the alarm naming the one before stands in', () => {
    const p = prepareNetwork(input([episode('D', 47, T0 + 30 * MIN)], [loss('D', 46, T0 + 29.5 * MIN, 'A1')]));
    expect(p.expectations).toEqual([{ deviceId: 'D', kind: 'communication_loss', seq: 46, deviceTime: T0 + 29.5 * MIN, triggerTime: T0 + 39.5 * MIN }]);
  });

  it('but not an alarm from further back than the tolerance, nor one that is another episode\'s own', () => {
    const far = prepareNetwork(input([episode('D', 47, T0 + 30 * MIN)], [loss('D', 40, T0 + 25 * MIN, 'A1')]));
    expect(far.expectations.map((e) => e.seq)).toEqual([47]);
    const other = prepareNetwork(input([episode('D', 46, T0 + 29.5 * MIN), episode('D', 47, T0 + 30 * MIN)], [loss('D', 46, T0 + 29.5 * MIN, 'A1')]));
    expect(other.expectations.map((e) => e.seq)).toEqual([46, 47]);
  });

  it('an exact match is kept as it is', () => {
    const p = prepareNetwork(input([episode('D', 47, T0 + 30 * MIN)], [loss('D', 47, T0 + 30 * MIN, 'A1'), loss('D', 46, T0 + 29.5 * MIN, 'A0')]));
    expect(p.expectations.map((e) => e.seq)).toEqual([47]);
  });
});

describe('late allowance of a communication_loss under a fault', () => {
  const window = (kind: string) => ({ name: kind, kind, from: T0 + 60 * MIN, until: T0 + 70 * MIN, devices: ['D'], healAt: new Map([['D', T0 + 70 * MIN]]) });
  const silence = { deviceId: 'D', kind: 'communication_loss' as const, seq: 20, deviceTime: T0 + 55 * MIN, triggerTime: T0 + 65 * MIN };
  const tamper = { ...silence, kind: 'strap_tamper' as const };

  it('a network fault excuses none: the silence is its doing, and detecting it the pipeline\'s job', () => {
    const p = prepareNetwork({ ...input([], []), faults: [window('black-hole')] });
    expect(p.excuse(silence)).toEqual({ faults: ['black-hole'], lateOkUntil: -Infinity });
    expect(p.excuse(tamper)?.lateOkUntil).toBe(T0 + 80 * MIN);
  });

  it('a pipeline down or reading slowly cannot see a silence in time: it may be late like any alarm', () => {
    // A record received only as the pipeline caught up (70 min) re-arms the rule then (RULES.md R): until 70 + 10 + 4 min.
    for (const [kind, until] of [['slow-consumer', 84], ['pipeline-restart', 84]] as const) {
      const p = prepareNetwork({ ...input([], []), faults: [window(kind)] });
      expect(p.excuse(silence), kind).toEqual({ faults: [kind], lateOkUntil: T0 + until * MIN });
    }
  });

  it('a silence that began before a pipeline restart is owed from the restart on (RULES.md "Watching since")', () => {
    // D last spoke at 65 min, during the restart (60–70 min): the harness's trigger is 75 min; the
    // restarted pipeline counts from 70 min and owes the alarm by 70 + 10 + 4 min.
    const p = prepareNetwork({ ...input([], []), faults: [window('pipeline-restart')] });
    const quiet = { ...silence, deviceTime: T0 + 65 * MIN, triggerTime: T0 + 75 * MIN };
    expect(p.excuse(quiet)).toEqual({ faults: ['pipeline-restart'], lateOkUntil: T0 + 84 * MIN });
    // A silence that began after the restart owes the SLA from its own trigger.
    expect(p.excuse({ ...silence, deviceTime: T0 + 90 * MIN, triggerTime: T0 + 100 * MIN })).toBeUndefined();
  });

  it('after a pipeline restart, an alarm of a device with no backlog still waits for the fleet\'s backlog to go through', () => {
    const f = { ...window('pipeline-restart'), devices: ['D', 'E'], healAt: new Map([['D', T0 + 70 * MIN], ['E', T0 + 70 * MIN]]) };
    // E's backlog went through at 74 min; D (silent) had none. D's alarm triggered at 72 min waits behind E's.
    const heal = (_f: string, id: string) => ({ fault: f.name, deviceId: id, healAt: T0 + 70 * MIN, need: 10, linkBackAt: T0 + 70 * MIN, drainedAt: id === 'E' ? T0 + 74 * MIN : undefined, forwardedBefore: id === 'D' ? 10 : 0 });
    const p = prepareNetwork({ ...input([], []), faults: [f], heal });
    const late = { ...tamper, triggerTime: T0 + 72 * MIN };
    // Excused at all because the fleet's backlog (74 min) outlasts D's heal: until D's link back plus the allowance.
    expect(p.excuse(late)).toEqual({ faults: ['pipeline-restart'], lateOkUntil: T0 + 80 * MIN });
    // Under a network fault D's own backlog is what counts: nothing to wait for after the heal.
    const q = prepareNetwork({ ...input([], []), faults: [{ ...f, kind: 'black-hole', name: 'black-hole' }], heal });
    expect(q.excuse(late)).toBeUndefined();
  });
});

describe('a pipeline that hears talking devices late', () => {
  const fault = (kind: string) => ({ name: kind, kind, from: T0 + 60 * MIN, until: T0 + 62 * MIN, devices: ['D'], healAt: new Map([['D', T0 + 62 * MIN]]) });
  // D last reached the pipeline at 55 min; the proxies saw it talk on (no episode), but the pipeline,
  // cut off, counts it silent and raises communication_loss at 65 min.
  const raised = loss('D', 20, T0 + 55 * MIN, 'A1');

  it('under a broker restart or a slow consumer, its communication_loss of a talking device is optional, not spurious', () => {
    for (const kind of ['broker-restart', 'slow-consumer']) {
      const p = prepareNetwork({ ...input([], [raised]), watched: new Set(['D']), faults: [fault(kind)] });
      expect(p.optional.map((e) => [e.deviceId, e.seq]), kind).toEqual([['D', 20]]);
      expect(p.expectations, kind).toEqual([]);
    }
  });

  it('under a network fault, or outside the window, it stays unexplained (spurious)', () => {
    const network = prepareNetwork({ ...input([], [raised]), watched: new Set(['D']), faults: [fault('black-hole')] });
    expect(network.optional).toEqual([]);
    // Raised at 85 min: past the heal (62) + offline timeout (10) + tolerance (1).
    const after = prepareNetwork({ ...input([], [loss('D', 30, T0 + 75 * MIN, 'A2')]), watched: new Set(['D']), faults: [fault('broker-restart')] });
    expect(after.optional).toEqual([]);
  });

  it('a silence the proxies saw under a broker restart stays required', () => {
    const p = prepareNetwork({ ...input([episode('D', 20, T0 + 55 * MIN)], [raised]), faults: [fault('broker-restart')] });
    expect(p.expectations.map((e) => [e.deviceId, e.seq])).toEqual([['D', 20]]);
  });
});
