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

/** The first `n` alarms the relay sees, by alarm id. */
function firstN(n: number): (a: FeedAlarm) => boolean {
  let taken = 0;
  return () => taken++ < n;
}

async function runThrough(opts: Omit<RelayOptions, 'upstream'>): Promise<{ relay: Relay; r: Awaited<ReturnType<typeof vigil>> }> {
  const relay = await startFeedRelay({ upstream: pipeline.url, ...opts });
  try {
    const r = await vigil(['run', scenarioFile, '--broker', mosquitto.url, '--pipeline', relay.url, '--out', tempDir()], { env: { VIGIL_TOKEN: token } });
    return { relay, r };
  } finally {
    await relay.close();
  }
}

const key = (a: { deviceId: string; kind: string; seq: number }): string => `${a.deviceId}/${a.kind}/${a.seq}`;

describe('a faulty pipeline behind a relay', () => {
  it('alarms that never leave the pipeline: exit 1, dropped = exactly that number, each named', async () => {
    const { relay, r } = await runThrough({ drop: firstN(5) });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const run = r.run!;
    expect(relay.dropped).toHaveLength(5);
    expect(run.verdict).toBe('FAIL');
    expect(run.ledger.dropped).toBe(5);
    expect(run.ledger).toMatchObject({ late: 0, duplicates: 0, spurious: 0 });
    const named = run.failures.filter((f) => f.status === 'dropped');
    expect(named.map(key).sort()).toEqual(relay.dropped.map(key).sort());
    for (const f of named) expect(f.detail).toMatch(/never reached the operator feed/);
    expect(r.stdout).toMatch(/FAILED no dropped alarms: 5 of \d+ expected alarms never reached the feed/);
  });

  it('alarms raised twice: duplicates = exactly that number', async () => {
    const { relay, r } = await runThrough({ duplicate: firstN(3) });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(relay.duplicated).toHaveLength(3);
    expect(r.run!.ledger).toMatchObject({ duplicates: 3, dropped: 0, late: 0, spurious: 0 });
    expect(r.run!.failures.filter((f) => f.status === 'duplicate').map(key).sort()).toEqual(relay.duplicated.map(key).sort());
  });

  it('alarms held past their SLA: late = exactly that number', async () => {
    // 2 s of wall time at speed 240 is 8 virtual minutes, twice the 4-minute SLA.
    let n = 0;
    const { relay, r } = await runThrough({ delayMs: () => (n++ < 4 ? 2000 : 0) });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(relay.delayed).toHaveLength(4);
    expect(r.run!.ledger).toMatchObject({ late: 4, dropped: 0, duplicates: 0, spurious: 0 });
    const late = r.run!.failures.filter((f) => f.status === 'late');
    expect(late.map(key).sort()).toEqual(relay.delayed.map(key).sort());
    for (const f of late) expect(f.latencyMs).toBeGreaterThan(240_000);
  });

  it('Vigil\'s feed connection cut mid-run: it resumes from its cursor and still PASSes', async () => {
    const { relay, r } = await runThrough({ cutEvery: 40 });
    expect(relay.cuts).toBeGreaterThanOrEqual(3);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.run!.ledger).toMatchObject({ dropped: 0, duplicates: 0, spurious: 0 });
    expect(r.run!.feed.disconnects).toBeGreaterThanOrEqual(3);
  });
});
