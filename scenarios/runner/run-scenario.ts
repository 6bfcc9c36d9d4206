/**
 * One run, in DESIGN.md's phases: provision → warm-up → timeline → drain → final read → verdict.
 * Every step registers its teardown, so a failure or Ctrl-C still unwinds in reverse.
 */
import { basename } from 'node:path';
import { virtualClock, type Clock } from '../../protocol/clock.ts';
import type { UplinkRecord } from '../../protocol/uplink.ts';
import type { RecordMinuteCounts } from '../../protocol/record-minutes.ts';
import { Oracle, type Expectation } from '../../sim/model/oracle/oracle.ts';
import { SilenceTracker } from '../../verify/absence.ts';
import { judge } from '../../verify/judge.ts';
import { harnessLagLimitMs } from '../../verify/harness-pace.ts';
import { RunNetwork } from './network.ts';
import { checkProcessFaults, ProcessFaults, type DeviceSeqs } from './process-faults.ts';
import { checkWorkers, startRunFleet, type RunFleet } from './run-fleet.ts';
import { DeviceFaults } from './device-faults.ts';
import { isProcessFault } from '../schema.ts';
import type { RunResult } from '../../reports/run-result.ts';
import { pipelineApi } from './endpoints.ts';
import { openRun, startServices, type RunOptions } from './setup.ts';
import { drain, waitUntil, watchFeed } from './feed-watch.ts';
import { absenceTolerance, lateAllowance, writeRunOutput } from './run-output.ts';
import { openRealDevices } from './hil-devices.ts';
import { AlarmTally, startRunProgress } from './run-progress.ts';
import { RecordMinutesJournal, recordsForRunJson, recordsOf } from './record-journal.ts';
import { judgeImpersonation, runImpostors, withIsolationCheck } from './impersonation.ts';

export type { RunOptions } from './setup.ts';
export { absenceTolerance, lateAllowance } from './run-output.ts';
export { newRunId } from './setup.ts';

export interface RunOutcome {
  readonly result: RunResult;
  readonly runDir: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Real ms from the timeline clock's making to its start: the pipeline is provisioned with the clock
 * and the feed is read in between. 1 s, and 0.15 ms more a device: with a flat 1 s, the 2021
 * replay's 15,350 devices were provisioned 132–233 ms after the timeline had started (2026-12-02),
 * and a fleet that starts behind its clock stays behind on a loaded machine.
 */
function timelineLeadMs(devices: number): number {
  return 1000 + 0.15 * devices;
}

export async function runScenario(opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log;
  // The fleet and what it provisions, validated before anything starts; then the real devices,
  // whose ports must open (and whose clocks may force speed 1) before anything else starts.
  const opened = openRun(opts);
  const real = await (async () => {
    checkProcessFaults(opened.scenario.faults, opts, basename(opts.loaded.file));
    checkWorkers(opened.scenario, opts.workers ?? 1, basename(opts.loaded.file));
    return openRealDevices(opened, opts.openHilSession, log);
  })().catch(async (err: unknown) => {
    await opened.teardowns.unwind(log);
    throw err;
  });
  const { ctx, hil } = real;
  const { scenario, runId, runDir, teardowns, phase, start, end, plan, fleet: provisioned, faults: plannedFaults, operatorOf, modes } = ctx;

  try {
    // Provision: broker, pipeline.
    const svc = await startServices(opts, ctx);
    const { brokerUrl, embeddedBroker, pipelineUrl, token, pipelineChild, journal } = svc;

    // The oracle sees every record as it is made; its expectations are journaled then kept.
    // `clock` is set once the timeline starts, before any record can be made.
    const timeline: { clock?: Clock } = {};
    const virtualNow = (): number => timeline.clock?.now() ?? start;
    const oracle = new Oracle(provisioned);
    const expectations: Expectation[] = [];
    const expect = (list: Expectation[]): void => {
      for (const e of list) {
        journal.append({ t: 'expectation', at: virtualNow(), ...e });
        expectations.push(e);
      }
    };
    const onRecord = (r: UplinkRecord): void => expect(oracle.observe(r));
    const slotOf = new Map(plan.devices.map((d, i) => [d.deviceId, i]));
    // Set once the fleet starts (after the network, whose endpoints it dials); read lazily below.
    let fleetRef: RunFleet | undefined;
    const deviceOf = (id: string): DeviceSeqs | undefined => fleetRef?.devices[slotOf.get(id) ?? -1];

    // The operator network: proxies per operator for the devices a fault targets (every device when the scenario asks).
    const tracker = new SilenceTracker({ offlineTimeoutMs: scenario.offlineTimeout, toleranceMs: absenceTolerance(scenario.speed), end });
    let network: RunNetwork | undefined;
    // A process fault silences every device as the pipeline sees it (a broker down): the proxies
    // then watch them all, so the absence checks know what got through.
    const processFaulted = scenario.faults.some(isProcessFault);
    // Real devices in gateway mode go through the proxies too, and are watched alike.
    const realSeqs = hil?.gatewaySeqs() ?? [];
    if (processFaulted) for (const d of [...plan.devices, ...realSeqs]) tracker.watch(d.deviceId);
    if (plannedFaults.length > 0 || scenario.network.proxy || processFaulted) {
      network = new RunNetwork({
        brokerUrl, faults: plannedFaults, operatorOf, seed: scenario.seed,
        tracker, madeSeq: (id) => deviceOf(id)?.lastSeq ?? hil?.lastSeqOf(id) ?? 0,
        journal: (entry) => journal.append(entry), log, routeAll: scenario.network.proxy || processFaulted,
      });
      const net = network;
      teardowns.add('operator network', async () => {
        await net.healAll(virtualNow());
        await net.close();
      });
      await network.start();
    }
    const admin = { url: pipelineUrl, token };
    const deviceFaults = new DeviceFaults(plannedFaults, (id) => fleetRef?.firmwareOf(id), (entry) => journal.append(entry));
    teardowns.add('device faults', () => deviceFaults.healAll(virtualNow()));
    const processFaults = new ProcessFaults({
      faults: scenario.faults, broker: embeddedBroker, pipeline: pipelineChild, silence: tracker, devices: plan.devices.map((d) => ({
        deviceId: d.deviceId,
        get lastSeq() {
          return deviceOf(d.deviceId)?.lastSeq ?? 0;
        },
        get ackedSeq() {
          return deviceOf(d.deviceId)?.ackedSeq ?? 0;
        },
      })).concat(realSeqs), virtualNow, journal: (entry) => journal.append(entry), log,
      pipelineFault: pipelineChild && (async (kind, active) => void (await pipelineApi.fault(admin.url, admin.token, { kind, active }))),
    });
    teardowns.add('process faults', () => processFaults.healAll(virtualNow()));
    const endpointOf = (deviceId: string): string => (network ? network.endpointOf(deviceId) : brokerUrl);
    // With faults, devices notice a dead path as a real device would: a keepalive of ~5 virtual
    // minutes (2–60 s real). Without, 60 s real keeps 15,000 idle connections cheap.
    const keepaliveS = network ? Math.max(2, Math.min(60, Math.round(300 / scenario.speed))) : 60;
    // Real devices' records flow from now on (gateway: their MQTT session connects with the fleet's).
    hil?.startBridges({ endpointOf, onRecord, keepaliveS, start, end, login: svc.deviceLogin });
    // A device's link failing is the harness's own trouble, not the pipeline's: journaled with the device and when.
    const onLinkError = (deviceId: string, err: Error): void => journal.append({ t: 'event', at: virtualNow(), event: 'link-error', deviceId, message: err.message });
    const fleet = fleetRef = await startRunFleet({ workers: opts.workers ?? 1, plan, scenario, modes, keepaliveS, endpointOf, onRecord, onLinkError, login: svc.deviceLogin });
    teardowns.add('fleet', () => fleet.close());
    phase('provision');

    // Warm-up: the whole fleet connects, spread, before virtual time starts — otherwise the last
    // devices to connect would hold their first records for the warm-up and report them late.
    const mix = scenario.mix;
    log(`run ${runId}: ${plan.devices.length} devices (${mix.pse} PSE, ${mix.psem} PSEM, ${mix.bar} BAR pairs), ${new Date(start).toISOString()} → ${new Date(end).toISOString()} at speed ${scenario.speed}`);
    const warmupLimitMs = (plan.devices.length / scenario.connectRate) * 1000 + 30_000;
    const connected = await fleet.connect(warmupLimitMs);
    if (connected < plan.devices.length) log(`warm-up: ${connected} of ${plan.devices.length} devices connected within ${Math.round(warmupLimitMs / 1000)} s; the rest keep trying`);
    phase('warm-up');

    // The timeline: the clock starts a moment from now, once the pipeline is provisioned with it
    // and the feed is read — a moment that grows with the fleet (timelineLeadMs).
    const timelineClock = virtualClock({ startVirtual: start, startReal: Date.now() + timelineLeadMs(plan.devices.length), speed: scenario.speed });
    timeline.clock = timelineClock;
    const watch = await watchFeed(ctx, svc, timelineClock, log);
    const { feed, observations } = watch;
    network?.setClock(timelineClock.triple);
    fleet.run(timelineClock);
    const lateStartS = (Date.now() - timelineClock.triple.startReal) / 1000;
    if (lateStartS > 0) log(`the timeline started ${lateStartS.toFixed(2)} s (real) before the fleet ran: its first records go out that late`);
    const recordMinutesNow = (): RecordMinuteCounts | undefined => recordsOf(fleet.recordMinutes, hil?.recordMinutes);
    const recordJournal = new RecordMinutesJournal(recordMinutesNow, timelineClock, (entry) => journal.append(entry));
    teardowns.add('records journal', () => recordJournal.stop());
    hil?.startStimulus({ clock: timelineClock, seed: scenario.seed, start });
    const net = network;
    const faultTimer = (net || processFaults.active || deviceFaults.active) && setInterval(() => {
      deviceFaults.tick(timelineClock.now());
      net?.tick(timelineClock.now());
      processFaults.tick(timelineClock.now());
    }, 50);
    if (faultTimer) teardowns.add('fault timeline', () => clearInterval(faultTimer));
    // Progress (issue 6): once a real second, what a person watching the run wants to know.
    const counted = (e: Expectation): boolean => !(e.kind === 'communication_loss' && tracker.isWatched(e.deviceId));
    const progress = opts.progress && startRunProgress(opts.progress, {
      clock: timelineClock, devicesTotal: plan.devices.length,
      fleet: () => ({ connected: fleet.stats.connected, publishes: fleet.stats.publishes, unacked: fleet.pending + (hil?.pending ?? 0) }),
      expectations: () => expectations, observations: watch.observations, observedKeys: watch.observedKeys, tally: new AlarmTally(scenario.slaMs, counted),
      faults: scenario.faults, records: recordMinutesNow, harnessLimitMs: harnessLagLimitMs(scenario.slaMs),
    }, { name: 'timeline', from: start, until: end });
    if (progress) teardowns.add('progress', () => progress.stop());
    await waitUntil(timelineClock, end, opts.signal);
    // An abort (Ctrl-C) ends the timeline now: the devices stop recording, and only what was due
    // by then is judged.
    const judgedEnd = opts.signal?.aborted ? Math.min(end, timelineClock.now()) : end;
    if (judgedEnd < end) fleet.stopRecordingAfter(judgedEnd);
    // Every record up to the end is made by the first fleet tick past it; then the oracle closes
    // the run (BAR watermarks, devices silent since before the end — docs/RULES.md).
    const closeAt = judgedEnd + timelineClock.triple.speed * 100;
    while (timelineClock.now() < closeAt) await sleep(20);
    await fleet.sync();
    // A real device's records come over serial as it sends them: wait for those made by the end
    // (DOMAIN.md's 60 s routine upload, and a heartbeat past it, in real time, and two seconds).
    await hil?.closeOracle(judgedEnd, (4 * 60_000) / timelineClock.triple.speed + 2000);
    expect(oracle.finish(judgedEnd));
    if (faultTimer) clearInterval(faultTimer);
    await network?.healAll(timelineClock.now());
    await processFaults.healAll(timelineClock.now());
    deviceFaults.healAll(timelineClock.now());
    // Impostors publish as other devices now, so the drain that follows covers their own devices' recovery.
    const impostors = scenario.isolation?.impostors ?? 0;
    const attempts = impostors > 0
      ? await runImpostors({ brokerUrl, login: svc.deviceLogin, deviceIds: plan.devices.map((d) => d.deviceId), impostors, time: judgedEnd, log })
      : undefined;
    phase('timeline');

    // Drain: the devices make no new records; wait for acks and for every due alarm, up to the limit.
    // The communication_loss of a device the network watched is judged from what the proxies
    // forwarded (verify/network.ts), under the seq the pipeline saw last — not the oracle's: waiting
    // for the oracle's key would hold every faulted run to the drain limit.
    const judged = (): Expectation[] => expectations.filter((e) => e.triggerTime >= start && e.triggerTime <= judgedEnd && counted(e));
    const drainFrom = timelineClock.now();
    progress?.setPhase('drain', drainFrom, drainFrom + scenario.drain);
    await drain(timelineClock, drainFrom + scenario.drain, () => fleet.pending === 0 && (hil?.pending ?? 0) === 0 && watch.allObserved(judged()), opts.signal);
    progress?.stop();
    phase('drain');

    // Final read.
    const summary = await pipelineApi.summary(pipelineUrl, token, svc.pipelineTls);
    const devices = await fleet.progress();
    // Read after progress, together: a shard's counters came with the state it sent just before its progress.
    const recordMinutes = recordMinutesNow();
    const fleetStats = { ...fleet.stats };
    recordJournal.finish(recordMinutes);
    const realDevices = hil?.recordStates(judgedEnd) ?? [];
    const finalAt = timelineClock.now();
    // What completeness is judged from, journaled and on disk before the ledger is built (vigil verify).
    journal.append({ t: 'event', at: finalAt, event: 'final-read', judgedEnd, summary, devices: [...devices, ...realDevices] });
    journal.flush();
    phase('final read');

    // Under faults, what the network forwarded decides the absence checks (verify/network.ts).
    const judgement = judge({
      faults: [...plannedFaults.map((p) => ({ name: p.fault.name, kind: p.fault.kind, from: p.fault.from, until: p.fault.until, devices: p.devices, healAt: p.healAt })), ...processFaults.windows([...plan.devices, ...realSeqs].map((d) => d.deviceId))],
      watched: tracker.watched, episodes: tracker.finish(finalAt), heal: (f: string, d: string) => tracker.heal(f, d) ?? processFaults.heal(f, d),
      operatorOf, partnerOf: ctx.partnerOf, expectations: expectations.map((e) => deviceFaults.trueTrigger(e)), observations, offlineTimeoutMs: scenario.offlineTimeout, toleranceMs: absenceTolerance(scenario.speed),
      lateAllowanceMs: lateAllowance(scenario), window: { start, end: judgedEnd }, finalAt, mass: scenario.network.massCommunicationLoss, slaMs: scenario.slaMs,
      deviceTypes: ctx.deviceTypes, devices: [...devices, ...realDevices], summary, keep: hil && ((id: string) => hil.has(id)), feed: feed.stats,
    });
    const isolation = attempts && judgeImpersonation(attempts, summary, embeddedBroker?.refused ?? null);
    const verdictOf = isolation ? withIsolationCheck(judgement, isolation.check) : judgement;
    phase('verdict');
    journal.append({ t: 'event', at: timelineClock.now(), event: 'verdict', verdict: verdictOf.verdict });

    const result = writeRunOutput(ctx, opts, svc, verdictOf, {
      devicesWatched: tracker.watched.size,
      network: network ? { operators: scenario.network.operators, ...(await network.report()) } : null,
      fleet: {
        ...fleetStats, records: devices.reduce((n, d) => n + d.lastSeq, 0), unacked: fleet.pending,
        resent: devices.reduce((n, d) => n + d.resent, 0), evicted: devices.reduce((n, d) => n + d.evicted, 0),
      },
      ...(recordMinutes ? { records: recordsForRunJson(recordMinutes) } : {}),
      feed: { ...feed.stats },
      hil: hil && { devices: hil.report(), ...(real.speedForced ? { speedForced: real.speedForced } : {}) },
      isolation: isolation?.report,
    });
    return { result, runDir };
  } finally {
    await teardowns.unwind(log);
  }
}
