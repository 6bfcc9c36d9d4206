/**
 * The verifying side of a run's timeline, shared by a normal run and an observer: the pipeline
 * provisioned with the run's clock, the operator feed consumed from the cursor it gave (every
 * observation journaled before it is counted), and the drain — waiting, up to its limit, until the
 * run's own condition says nothing more is due.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../protocol/clock.ts';
import type { Provisioning } from '../../protocol/provisioning.ts';
import { alarmKey, type Expectation } from '../../sim/model/oracle/oracle.ts';
import { FeedConsumer } from '../../verify/feed-consumer.ts';
import type { Observation } from '../../verify/ledger.ts';
import type { RunContext, Services } from './setup.ts';
import { pipelineApi } from './endpoints.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface FeedWatch {
  readonly feed: FeedConsumer;
  readonly observations: Observation[];
  /** alarmKey of every observation. */
  readonly observedKeys: Set<string>;
  /** True once every expectation of `list` has been observed. */
  allObserved(list: readonly Expectation[]): boolean;
}

/** Provisions the pipeline with `clock` (writes provisioning.json) and starts reading its feed. */
export async function watchFeed(ctx: RunContext, svc: Services, clock: Clock, log: (line: string) => void): Promise<FeedWatch> {
  const provisioning: Provisioning = { runId: ctx.runId, clock: clock.triple, ...ctx.fleet };
  const { feedCursor } = await pipelineApi.provision(svc.pipelineUrl, svc.token, provisioning, svc.pipelineTls);
  writeFileSync(join(ctx.runDir, 'provisioning.json'), JSON.stringify(provisioning, null, 1));
  svc.journal.append({ t: 'event', at: Date.now(), event: 'provisioned', runId: ctx.runId, clock: clock.triple, devices: ctx.plan.devices.length, feedCursor });
  const observations: Observation[] = [];
  const observedKeys = new Set<string>();
  const feed = new FeedConsumer({
    baseUrl: svc.pipelineUrl, token: svc.token, tls: svc.pipelineTls, after: feedCursor, now: () => clock.now(), log,
    onObservation: (o) => {
      svc.journal.append({ t: 'observation', at: o.receivedAt, ...o.alarm });
      observations.push(o);
      observedKeys.add(alarmKey(o.alarm));
    },
    onMalformed: (reason, raw) => svc.journal.append({ t: 'event', at: clock.now(), event: 'feed-malformed', reason, raw }),
  });
  await feed.start();
  ctx.teardowns.add('feed consumer', () => feed.stop());
  return { feed, observations, observedKeys, allObserved: (list) => list.every((e) => observedKeys.has(alarmKey(e))) };
}

/**
 * Drain: waits until `done()` or virtual `until` (or an abort), then a short settle so a duplicate
 * or a spurious alarm right behind the last one is still seen.
 */
export async function drain(clock: Clock, until: number, done: () => boolean | Promise<boolean>, signal: AbortSignal | undefined): Promise<void> {
  while (clock.now() < until && !signal?.aborted) {
    if (await done()) break;
    await sleep(100);
  }
  await sleep(Math.max(500, clock.toReal(30_000)));
}

/** Sleeps until virtual `at` (or an abort), calling `progress` every 10 s of wall time. */
export async function waitUntil(clock: Clock, at: number, signal: AbortSignal | undefined, progress?: () => void): Promise<void> {
  let lastProgress = Date.now();
  while (clock.now() < at && !signal?.aborted) {
    await sleep(200);
    if (progress && Date.now() - lastProgress >= 10_000) {
      lastProgress = Date.now();
      progress();
    }
  }
}
