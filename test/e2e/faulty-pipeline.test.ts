/**
 * A relay between the pipeline and Vigil makes the pipeline look faulty in a way Vigil cannot
 * recover from; the ledger must count exactly what the relay did and name each alarm (issue 2).
 * And Vigil's own feed connection, cut mid-run, resumes from its cursor with nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { FeedAlarm } from '../../protocol/feed.ts';
import { startPipelineChild, type PipelineChild } from '../../sim/pipeline-process.ts';
import { startFeedRelay, type Relay, type RelayOptions } from '../support/feed-relay.ts';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { tempDir, vigil, writeScenario } from '../support/cli.ts';

const token = 'relay-test-token';
let mosquitto: Mosquitto;
let pipeline: PipelineChild;
let scenarioFile: string;

beforeAll(async () => {
  mosquitto = await startMosquitto();
  pipeline = await startPipelineChild({ brokerUrl: mosquitto.url, token, dbFile: join(tempDir(), 'p.db') });
  // 300 wearers with a high violation rate: plenty of alarms in 30 s of wall time.
  scenarioFile = writeScenario(tempDir(), 'relay', {
    name: 'relay', seed: 7, speed: 240, duration: '2h', drain: '30m', fleet: { psem: 300 },
    behaviour: { exclusionEntriesPerDay: 3, strapTampersPerDay: 1, gpsLossesPerDay: 1 },
  });
});
afterAll(async () => {
  await pipeline?.close();
  await mosquitto?.stop();
});

const key = (a: { deviceId: string; kind: string; seq: number }): string => `${a.deviceId}/${a.kind}/${a.seq}`;

async function runThrough(opts: Omit<RelayOptions, 'upstream'>): Promise<{ relay: Relay; r: Awaited<ReturnType<typeof vigil>> }> {
  const relay = await startFeedRelay({ upstream: pipeline.url, ...opts });
  try {
    const r = await vigil(['run', scenarioFile, '--broker', mosquitto.url, '--pipeline', relay.url, '--out', tempDir()], { env: { VIGIL_TOKEN: token } });
    return { relay, r };
  } finally {
    await relay.close();
  }
}

describe('a faulty pipeline behind a relay', () => {
  // One run, three faults on disjoint alarms, in the order the relay first sees them: the ledger must
  // count each exactly and name each alarm under its own status (one run where three used to be: npm
  // test's time budget).
  it('alarms that never leave the pipeline, raised twice, held past their SLA: exit 1, dropped, duplicates and late = exactly those, each named', async () => {
    const order = new Map<string, number>();
    const nth = (a: FeedAlarm): number => order.get(a.alarmId) ?? order.set(a.alarmId, order.size).get(a.alarmId)!;
    // 2 s of wall time at speed 240 is 8 virtual minutes, twice the 4-minute SLA.
    const { relay, r } = await runThrough({
      drop: (a) => nth(a) < 5,
      duplicate: (a) => nth(a) >= 5 && nth(a) < 8,
      delayMs: (a) => (nth(a) >= 8 && nth(a) < 12 ? 2000 : 0),
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const run = r.run!;
    expect(run.verdict).toBe('FAIL');
    expect([relay.dropped.length, relay.duplicated.length, relay.delayed.length]).toEqual([5, 3, 4]);
    expect(run.ledger).toMatchObject({ dropped: 5, duplicates: 3, late: 4, spurious: 0 });

    const named = (status: string): string[] => run.failures.filter((f) => f.status === status).map(key).sort();
    expect(named('dropped')).toEqual(relay.dropped.map(key).sort());
    expect(named('duplicate')).toEqual(relay.duplicated.map(key).sort());
    expect(named('late')).toEqual(relay.delayed.map(key).sort());
    for (const f of run.failures.filter((x) => x.status === 'dropped')) expect(f.detail).toMatch(/never reached the operator feed/);
    for (const f of run.failures.filter((x) => x.status === 'late')) expect(f.latencyMs).toBeGreaterThan(240_000);
    expect(r.stdout).toMatch(/FAILED no dropped alarms: 5 of \d+ expected alarms never reached the feed/);
  });

  it('Vigil\'s feed connection cut mid-run: it resumes from its cursor and still PASSes', async () => {
    const { relay, r } = await runThrough({ cutEvery: 40 });
    expect(relay.cuts).toBeGreaterThanOrEqual(3);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.run!.ledger).toMatchObject({ dropped: 0, duplicates: 0, spurious: 0 });
    expect(r.run!.feed.disconnects).toBeGreaterThanOrEqual(3);
  });
});
