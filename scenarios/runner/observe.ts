/**
 * Observe mode (`vigil run --observe`, DESIGN.md "Scale"): the load comes from elsewhere — k6 on
 * many machines, or another Vigil process with --devices-only — and this run only verifies. It
 * provisions the broker and pipeline as a normal run does, derives every expectation from the seed
 * (sim/model/seed-replay.ts: determinism is the oracle), hands the load its clock — a start `lead`
 * seconds ahead, written to runs/<id>/clock.json and printed — then reads the operator feed through
 * the timeline and the drain and judges with verify/judge.ts, as a normal run does.
 *
 * What it cannot see, it does not invent: the devices' acks and outboxes are someone else's, so
 * position completeness is judged from the pipeline's stored seqs against the seed's last seqs,
 * and run.json names the rest as unknown.
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { virtualClock } from '../../protocol/clock.ts';
import { replaySeed, type SeedReplay } from '../../sim/model/seed-replay.ts';
import type { Expectation } from '../../sim/model/oracle/oracle.ts';
import { judge } from '../../verify/judge.ts';
import type { DeviceRecordState } from '../../verify/completeness.ts';
import type { RunResult } from '../../reports/run-result.ts';
import { pipelineApi } from './endpoints.ts';
import { redactUrl } from '../../protocol/redact.ts';
import { openRun, startServices, type RunContext, type RunOptions } from './setup.ts';
import { drain, waitUntil, watchFeed } from './feed-watch.ts';
import { absenceTolerance, lateAllowance, writeRunOutput } from './run-output.ts';
import { refuseFaultsWithoutDevices } from './clock-handoff.ts';
import { AlarmTally, dueBy, startRunProgress } from './run-progress.ts';

export interface ObserveOptions extends RunOptions {
  /** Real seconds between the hand-off and the start of the timeline, for the load to start and connect. */
  readonly leadS: number;
  /** The command that starts a Vigil load on this run's clock file and broker. */
  readonly loadCommand: (clockFile: string, brokerUrl: string) => string;
}

/** What an observer never sees of the devices (run.json `observe.unknown`). */
const UNKNOWN = ['ackedSeq', 'pendingSeqs', 'evicted', 'resent', 'connects', 'publishes'] as const;

function replay(ctx: RunContext, end: number): SeedReplay {
  const { scenario, plan, fleet, start } = ctx;
  return replaySeed({ plan, oracle: fleet, seed: scenario.seed, start, end, speed: scenario.speed });
}

export async function observeScenario(opts: ObserveOptions): Promise<{ result: RunResult; runDir: string }> {
  const log = opts.log;
  const ctx = openRun(opts);
  const { scenario, runDir, teardowns, phase, start, end, plan } = ctx;
  try {
    refuseFaultsWithoutDevices(scenario, basename(opts.loaded.file), '--observe');
    const svc = await startServices(opts, ctx, true);
    const { journal } = svc;
    const mix = scenario.mix;
    log(`observe ${ctx.runId}: ${plan.devices.length} devices (${mix.pse} PSE, ${mix.psem} PSEM, ${mix.bar} BAR pairs) from elsewhere, ${new Date(start).toISOString()} → ${new Date(end).toISOString()} at speed ${scenario.speed}`);
    if (scenario.network.proxy) log('observe: the scenario asks for operator proxies; the load connects straight to the broker (no fault needs them)');

    // Every expectation, from the seed alone, before the clock starts.
    let seed = replay(ctx, end);
    for (const e of seed.expectations) journal.append({ t: 'expectation', at: start, ...e });
    log(`expected from seed ${scenario.seed}: ${seed.records} records, ${seed.expectations.length} alarms`);
    phase('provision');

    // The hand-off: the timeline starts `lead` seconds from now, for the load to start and connect.
    const clock = virtualClock({ startVirtual: start, startReal: Date.now() + opts.leadS * 1000, speed: scenario.speed });
    const watch = await watchFeed(ctx, svc, clock, log);
    const clockJson = JSON.stringify(clock.triple);
    const clockFile = join(runDir, 'clock.json');
    writeFileSync(clockFile, `${clockJson}\n`);
    log(`clock: ${clockJson}`);
    log(`broker: ${redactUrl(svc.brokerUrl)}`);
    log(`load (Vigil): ${opts.loadCommand(clockFile, redactUrl(svc.brokerUrl))}`);
    log(`load (k6, docs/DISTRIBUTED.md): k6 run -e VIGIL_CLOCK='${clockJson}' -e VIGIL_BROKER=${redactUrl(svc.brokerUrl)} <the script of vigil k6 export>`);
    log(`timeline starts in ${opts.leadS} s (${new Date(clock.triple.startReal).toISOString()})`);
    await waitUntil(clock, start, opts.signal);
    phase('lead');

    const { feed, observations } = watch;
    // Progress as a normal run's (run-progress.ts), from what an observer knows: the seed's alarms as
    // they fall due and the feed. No fleet here: msg/s, connections and unacked are unknown, not zero.
    const progress = opts.progress && startRunProgress(opts.progress, {
      clock, devicesTotal: plan.devices.length, expectations: dueBy(seed.expectations), observations, observedKeys: watch.observedKeys,
      tally: new AlarmTally(scenario.slaMs, () => true), faults: [],
    }, { name: 'timeline', from: start, until: end });
    if (progress) teardowns.add('progress', () => progress.stop());
    await waitUntil(clock, end, opts.signal);
    // An abort ends the timeline now: only what was due by then is judged (the load may go on).
    const judgedEnd = opts.signal?.aborted ? Math.min(end, clock.now()) : end;
    if (judgedEnd < end) seed = replay(ctx, judgedEnd);
    phase('timeline');

    // Drain: until every due alarm was seen and the pipeline stored every record the seed says the
    // devices made — the observer's stand-in for "every device's outbox is empty".
    const judged: Expectation[] = seed.expectations.filter((e) => e.triggerTime >= start && e.triggerTime <= judgedEnd);
    const drainFrom = clock.now();
    progress?.setPhase('drain', drainFrom, drainFrom + scenario.drain);
    let storedAt = 0;
    let allStored = false;
    const everythingStored = async (): Promise<boolean> => {
      if (Date.now() - storedAt < 1000) return allStored;
      storedAt = Date.now();
      const s = await pipelineApi.summary(svc.pipelineUrl, svc.token, svc.pipelineTls);
      allStored = [...seed.lastSeq].every(([id, last]) => (s.devices[id]?.contiguousSeq ?? 0) >= last);
      return allStored;
    };
    await drain(clock, drainFrom + scenario.drain, async () => watch.allObserved(judged) && (await everythingStored()), opts.signal);
    progress?.stop();
    phase('drain');

    const summary = await pipelineApi.summary(svc.pipelineUrl, svc.token, svc.pipelineTls);
    const finalAt = clock.now();
    phase('final read');

    // Completeness against the seed: the devices' acks and outboxes are unknown here, not zero.
    const devices: DeviceRecordState[] = [...seed.lastSeq].map(([deviceId, lastSeq]) => ({ deviceId, lastSeq, ackedSeq: 0, pendingSeqs: [], evicted: 0 }));
    journal.append({ t: 'event', at: finalAt, event: 'final-read', judgedEnd, summary, devices });
    journal.flush();
    const judgement = judge({
      faults: [], watched: new Set(), episodes: [], heal: () => undefined,
      operatorOf: ctx.operatorOf, partnerOf: ctx.partnerOf, expectations: seed.expectations, observations, offlineTimeoutMs: scenario.offlineTimeout,
      toleranceMs: absenceTolerance(scenario.speed), lateAllowanceMs: lateAllowance(scenario), window: { start, end: judgedEnd }, finalAt,
      mass: scenario.network.massCommunicationLoss, slaMs: scenario.slaMs, deviceTypes: ctx.deviceTypes, devices, summary, feed: feed.stats,
    });
    phase('verdict');
    journal.append({ t: 'event', at: clock.now(), event: 'verdict', verdict: judgement.verdict });

    const result = writeRunOutput(ctx, opts, svc, judgement, {
      devicesWatched: 0,
      network: null,
      fleet: { devices: plan.devices.length, records: seed.records },
      feed: { ...feed.stats },
      observe: {
        clock: clock.triple, leadS: opts.leadS, unknown: UNKNOWN,
        note: 'observe mode: the load came from elsewhere; expectations and fleet.records come from the seed, completeness compares the pipeline\'s stored seqs with the seed\'s last seqs, and what the devices got acknowledged or still hold is unknown',
      },
    });
    return { result, runDir };
  } finally {
    await teardowns.unwind(log);
  }
}
