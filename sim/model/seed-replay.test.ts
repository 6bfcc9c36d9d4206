import { describe, expect, it } from 'vitest';
import { Provisioning } from '../../protocol/provisioning.ts';
import type { UplinkRecord } from '../../protocol/uplink.ts';
import { DEFAULT_BEHAVIOUR, scaleBehaviour } from './behaviour.ts';
import { Oracle, alarmKey, type Expectation, type OracleConfig } from './oracle/oracle.ts';
import { planFirmwares, replaySeed } from './seed-replay.ts';
import { HOUR, plan } from './test-support.ts';

const start = Date.parse('2021-10-25T14:00:00+02:00');
const end = start + 8 * HOUR; // into the evening: curfews and late returns are due too
const seed = 7;
const speed = 240;
const sorted = (list: readonly Expectation[]): Expectation[] => [...list].sort((a, b) => alarmKey(a).localeCompare(alarmKey(b)));

/**
 * What the oracle expects when the firmwares run as a live fleet drives them: woken at ticks of
 * virtual time (the fleet's 20 ms real tick at speed 240), publishing while their link is up, acked
 * a tick later, links dropping on a schedule so that records wait in outboxes and are resent.
 */
function liveDrive(fleetPlan: ReturnType<typeof plan>, oracleCfg: OracleConfig): { expectations: Expectation[]; resent: number; lastSeq: Map<string, number> } {
  const firmwares = planFirmwares(fleetPlan, seed, start, end, speed);
  const oracle = new Oracle(oracleCfg);
  const expectations: Expectation[] = [];
  const onRecord = (r: UplinkRecord): void => void expectations.push(...oracle.observe(r));
  const tick = 20 * speed;
  const wasUp = firmwares.map(() => true);
  const toAck: (number | undefined)[] = firmwares.map(() => undefined);
  // Past the end by a tick, as the runner waits for the first fleet tick past it.
  for (let now = start; now <= end + tick; now += tick) {
    firmwares.forEach((fw, i) => {
      // Device i's link is down for 7 virtual minutes out of every 35, each device at its own phase.
      const up = Math.floor((now - start) / (7 * 60_000) + i) % 5 !== 0;
      const ack = toAck[i];
      if (up && ack !== undefined) fw.onAck(ack);
      toAck[i] = undefined;
      if (up && !wasUp[i]) fw.onLinkUp();
      wasUp[i] = up;
      if (fw.nextWakeAt() > now) return;
      const batches = fw.wake(now, up, onRecord);
      const last = batches.at(-1)?.at(-1);
      if (last) toAck[i] = last.seq;
      fw.takeReconnect();
    });
  }
  expectations.push(...oracle.finish(end));
  return {
    expectations, resent: firmwares.reduce((n, fw) => n + fw.counters.resent, 0), lastSeq: new Map(firmwares.map((fw) => [fw.deviceId, fw.lastSeq])),
  };
}

describe('expectations from the seed alone', () => {
  const fleetPlan = plan(seed, { pse: 3, psem: 4, bar: 2 }, scaleBehaviour(DEFAULT_BEHAVIOUR, 20), start);
  // Validated by the protocol's schema (defaults filled in), as a run provisions it.
  const oracleOf = (p: ReturnType<typeof plan>): OracleConfig => Provisioning.parse({ runId: 'r', clock: { startVirtual: start, startReal: 0, speed }, offlineTimeoutMs: 600_000, ...p.provisioning });
  const oracleCfg = oracleOf(fleetPlan);

  it('equal what the oracle sees of a live-driven fleet over the same span, alarm by alarm', () => {
    const live = liveDrive(fleetPlan, oracleCfg);
    const replay = replaySeed({ plan: fleetPlan, oracle: oracleCfg, seed, start, end, speed });
    // The live drive really went through dead links and resends, and expects several kinds of alarm.
    expect(live.resent).toBeGreaterThan(0);
    expect(new Set(live.expectations.map((e) => e.kind)).size).toBeGreaterThanOrEqual(3);
    expect(sorted(replay.expectations)).toEqual(sorted(live.expectations));
    expect(replay.lastSeq).toEqual(live.lastSeq);
    expect(replay.records).toBe([...live.lastSeq.values()].reduce((n, s) => n + s, 0));
  });

  it('depend on the seed and on the span', () => {
    const a = replaySeed({ plan: fleetPlan, oracle: oracleCfg, seed, start, end, speed });
    const shorter = replaySeed({ plan: fleetPlan, oracle: oracleCfg, seed, start, end: end - 4 * HOUR, speed });
    const other = plan(seed + 1, { pse: 3, psem: 4, bar: 2 }, scaleBehaviour(DEFAULT_BEHAVIOUR, 20), start);
    const b = replaySeed({ plan: other, oracle: oracleOf(other), seed: seed + 1, start, end, speed });
    expect(shorter.records).toBeLessThan(a.records);
    expect(sorted(b.expectations)).not.toEqual(sorted(a.expectations));
  });
});
