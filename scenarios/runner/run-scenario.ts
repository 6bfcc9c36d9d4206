/**
 * One run, in DESIGN.md's phases: provision → warm-up → timeline → drain → final read → verdict.
 * Every step registers its teardown, so a failure or Ctrl-C still unwinds in reverse.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { virtualClock, type Clock } from '../../protocol/clock.ts';
import type { UplinkRecord } from '../../protocol/uplink.ts';
import type { Provisioning } from '../../protocol/provisioning.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../sim/broker.ts';
import { Fleet, type DeliveryMode } from '../../sim/fleet.ts';
import { startPipelineChild, type PipelineChild } from '../../sim/pipeline-process.ts';
import { createFirmware } from '../../sim/model/fleet-plan.ts';
import { deviceConfigForSpeed } from '../../sim/model/defaults.ts';
import { Oracle, alarmKey, type Expectation } from '../../sim/model/oracle/oracle.ts';
import { FeedConsumer } from '../../verify/feed-consumer.ts';
import { Journal } from '../../verify/journal.ts';
import type { Observation } from '../../verify/ledger.ts';
import { SilenceTracker } from '../../verify/absence.ts';
import { judge } from '../../verify/judge.ts';
import { RunNetwork } from './network.ts';
import { checkProcessFaults, ProcessFaults } from './process-faults.ts';
import { DeviceFaults } from './device-faults.ts';
import { isProcessFault, type Scenario } from '../schema.ts';
import { SCHEMA_VERSION, type RunResult } from '../../reports/run-result.ts';
import { junitXml } from '../../reports/junit.ts';
import type { LoadedScenario } from '../load.ts';
import { Teardowns } from './teardown.ts';
import { provisionRun } from './provision.ts';
import { pipelineApi, probeBroker } from './endpoints.ts';
import { VIGIL_VERSION } from '../../reports/version.ts';

export interface RunOptions {
  readonly loaded: LoadedScenario;
  /** External broker; undefined = embedded aedes. */
  readonly brokerUrl?: string | undefined;
  /** External pipeline base URL; undefined = the reference pipeline as a child process. */
  readonly pipelineUrl?: string | undefined;
  /** Feed/provisioning token of an external pipeline. */
  readonly token?: string | undefined;
  readonly outDir: string;
  readonly command: string;
  readonly log: (line: string) => void;
  /** Aborts the run (Ctrl-C): it still drains what it can, reads, and reports. */
  readonly signal?: AbortSignal | undefined;
}

export interface RunOutcome {
  readonly result: RunResult;
  readonly runDir: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each device's firmware variant: the scenario's one mode, or its mode for the device's type. */
export function firmwareModes(scenario: Scenario, types: readonly string[]): DeliveryMode[] {
  const f = scenario.firmware;
  if (typeof f === 'string') return types.map(() => f);
  return types.map((t) => (t === 'pse' ? f.pse : t === 'psem' ? f.psem : f.bar) ?? f.default);
}

/**
 * Virtual ms within which the pipeline may see a record later than the proxy forwarded it (broker
 * hop, group commit, watchdog sweep): an absence at its boundary by less is neither required nor
 * spurious. A minute, or two real seconds at high speed.
 */
export function absenceTolerance(speed: number): number {
  return Math.max(60_000, 2000 * speed);
}

/**
 * The late allowance a run applies: the scenario's, but never less than 5 real seconds — after a
 * heal a device reconnects after the harness's reconnect period (1–2 s real) whatever the speed.
 */
export function lateAllowance(scenario: Pick<Scenario, 'lateAllowance' | 'speed'>): number {
  return Math.max(scenario.lateAllowance, 5000 * scenario.speed);
}

export function newRunId(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${stamp}-${name}-${randomBytes(3).toString('hex')}`;
}

export async function runScenario(opts: RunOptions): Promise<RunOutcome> {
  const { scenario } = opts.loaded;
  const log = opts.log;
  const runId = newRunId(scenario.name);
  const runDir = join(opts.outDir, runId);
  mkdirSync(runDir, { recursive: true });
  const teardowns = new Teardowns();
  const phases: Record<string, number> = {};
  let phaseStart = Date.now();
  const phase = (name: string): void => {
    const now = Date.now();
    phases[name] = (now - phaseStart) / 1000;
    phaseStart = now;
  };
  const startedAt = new Date().toISOString();

  try {
    // The fleet and what it provisions, validated before anything starts.
    const start = scenario.start;
    const end = start + scenario.duration;
    const { plan, fleet: provisioned, faults: plannedFaults } = provisionRun(scenario, basename(opts.loaded.file));
    const deviceTypes = new Map(provisioned.devices.map((d) => [d.deviceId, d.type]));
    const operatorOf = new Map(provisioned.devices.map((d) => [d.deviceId, d.operator]));
    const partnerOf = new Map(provisioned.barPairs.flatMap((p) => [[p.perpetratorId, p.victimId], [p.victimId, p.perpetratorId]] as const));
    const modes = firmwareModes(scenario, plan.devices.map((d) => d.type));
    checkProcessFaults(scenario.faults, opts, basename(opts.loaded.file));

    // Provision: broker, pipeline.
    let brokerUrl = opts.brokerUrl;
    let embeddedBroker: RunningBroker | undefined;
    if (brokerUrl) {
      await probeBroker(brokerUrl);
    } else {
      const broker = embeddedBroker = await startEmbeddedBroker();
      teardowns.add('embedded broker', () => broker.close());
      brokerUrl = broker.url;
    }
    let pipelineUrl = opts.pipelineUrl;
    let token = opts.token ?? process.env.VIGIL_TOKEN ?? '';
    let pipelineChild: PipelineChild | undefined;
    if (pipelineUrl) {
      await pipelineApi.health(pipelineUrl);
    } else {
      token = randomBytes(16).toString('hex');
      const child = pipelineChild = await startPipelineChild({ brokerUrl, token, dbFile: join(runDir, 'pipeline.db') });
      teardowns.add('reference pipeline', () => child.close());
      pipelineUrl = child.url;
    }
    const health = await pipelineApi.health(pipelineUrl);

    const journal = new Journal(join(runDir, 'journal.jsonl'));
    teardowns.add('journal', () => journal.close());

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
    const cfg = deviceConfigForSpeed(scenario.speed);
    const firmwares = plan.devices.map((d) => {
      const fw = createFirmware(d, scenario.seed, start, cfg);
      fw.stopRecordingAfter(end);
      return fw;
    });
    const slotOf = new Map(firmwares.map((fw, i) => [fw.deviceId, i]));

    // The operator network: proxies per operator when a fault needs them (or the scenario asks).
    const tracker = new SilenceTracker({ offlineTimeoutMs: scenario.offlineTimeout, toleranceMs: absenceTolerance(scenario.speed), end });
    let network: RunNetwork | undefined;
    // A process fault silences every device as the pipeline sees it (a broker down): the proxies
    // then watch them all, so the absence checks know what got through.
    const processFaulted = scenario.faults.some(isProcessFault);
    if (processFaulted) for (const d of plan.devices) tracker.watch(d.deviceId);
    if (plannedFaults.length > 0 || scenario.network.proxy || processFaulted) {
      network = new RunNetwork({
        brokerUrl, faults: plannedFaults, operatorOf, seed: scenario.seed,
        tracker, madeSeq: (id) => (firmwares[slotOf.get(id) ?? -1]?.lastSeq ?? 0),
        journal: (entry) => journal.append(entry), log,
      });
      const net = network;
      teardowns.add('operator network', async () => {
        await net.healAll(virtualNow());
        await net.close();
      });
      await network.start();
    }
    const admin = { url: pipelineUrl, token };
    const deviceFaults = new DeviceFaults(plannedFaults, (id) => firmwares[slotOf.get(id) ?? -1], (entry) => journal.append(entry));
    teardowns.add('device faults', () => deviceFaults.healAll(virtualNow()));
    const processFaults = new ProcessFaults({
      faults: scenario.faults, broker: embeddedBroker, pipeline: pipelineChild, devices: firmwares, virtualNow, journal: (entry) => journal.append(entry), log,
      pipelineFault: pipelineChild && (async (kind, active) => void (await pipelineApi.fault(admin.url, admin.token, { kind, active }))),
    });
    teardowns.add('process faults', () => processFaults.healAll(virtualNow()));
    const endpointOf = (slot: number): string => {
      if (!network) return brokerUrl as string;
      return network.endpointOf((firmwares[slot] as (typeof firmwares)[number]).deviceId);
    };
    // With faults, devices notice a dead path as a real device would: a keepalive of ~5 virtual
    // minutes (2–60 s real). Without, 60 s real keeps 15,000 idle connections cheap.
    const keepaliveS = network ? Math.max(2, Math.min(60, Math.round(300 / scenario.speed))) : 60;
    const fleet = new Fleet({ endpointOf, firmwares, modes, keepaliveS, seed: scenario.seed, connectRatePerS: scenario.connectRate, onRecord });
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
    // and the feed is read.
    const timelineClock = virtualClock({ startVirtual: start, startReal: Date.now() + 1000, speed: scenario.speed });
    timeline.clock = timelineClock;
    const provisioning: Provisioning = { runId, clock: timelineClock.triple, ...provisioned };
    const { feedCursor } = await pipelineApi.provision(pipelineUrl, token, provisioning);
    writeFileSync(join(runDir, 'provisioning.json'), JSON.stringify(provisioning, null, 1));
    journal.append({ t: 'event', at: Date.now(), event: 'provisioned', runId, clock: timelineClock.triple, devices: plan.devices.length, feedCursor });
    const observations: Observation[] = [];
    const observedKeys = new Set<string>();
    const feed = new FeedConsumer({
      baseUrl: pipelineUrl, token, after: feedCursor, now: () => timelineClock.now(), log,
      onObservation: (o) => {
        journal.append({ t: 'observation', at: o.receivedAt, ...o.alarm });
        observations.push(o);
        observedKeys.add(alarmKey(o.alarm));
      },
    });
    await feed.start();
    teardowns.add('feed consumer', () => feed.stop());
    network?.setClock(timelineClock.triple);
    fleet.run(timelineClock);
    const net = network;
    const faultTimer = (net || processFaults.active || deviceFaults.active) && setInterval(() => {
      deviceFaults.tick(timelineClock.now());
      net?.tick(timelineClock.now());
      processFaults.tick(timelineClock.now());
    }, 50);
    if (faultTimer) teardowns.add('fault timeline', () => clearInterval(faultTimer));
    let lastProgress = Date.now();
    while (timelineClock.now() < end && !opts.signal?.aborted) {
      await sleep(200);
      if (Date.now() - lastProgress >= 10_000) {
        lastProgress = Date.now();
        const pct = Math.max(0, Math.min(100, ((timelineClock.now() - start) / (end - start)) * 100));
        log(`  ${pct.toFixed(0)}%  virtual ${new Date(timelineClock.now()).toISOString()}  connected ${fleet.stats.connected}/${plan.devices.length}  expected ${expectations.length}  observed ${observations.length}  unacked ${fleet.pending}`);
      }
    }
    // An abort (Ctrl-C) ends the timeline now: the devices stop recording, and only what was due
    // by then is judged.
    const judgedEnd = opts.signal?.aborted ? Math.min(end, timelineClock.now()) : end;
    if (judgedEnd < end) for (const fw of firmwares) fw.stopRecordingAfter(judgedEnd);
    // Every record up to the end is made by the first fleet tick past it; then the oracle closes
    // the run (BAR watermarks, devices silent since before the end — docs/RULES.md).
    const closeAt = judgedEnd + timelineClock.triple.speed * 100;
    while (timelineClock.now() < closeAt) await sleep(20);
    await fleet.sync();
    expect(oracle.finish(judgedEnd));
    if (faultTimer) clearInterval(faultTimer);
    await network?.healAll(timelineClock.now());
    await processFaults.healAll(timelineClock.now());
    deviceFaults.healAll(timelineClock.now());
    phase('timeline');

    // Drain: the devices make no new records; wait for acks and for every due alarm, up to the limit.
    const drainUntil = timelineClock.now() + scenario.drain;
    const judged = (): Expectation[] => expectations.filter((e) => e.triggerTime >= start && e.triggerTime <= judgedEnd);
    while (timelineClock.now() < drainUntil && !opts.signal?.aborted) {
      if (fleet.pending === 0 && judged().every((e) => observedKeys.has(alarmKey(e)))) break;
      await sleep(100);
    }
    // A short settle, so a duplicate or a spurious alarm right behind the last one is still seen.
    await sleep(Math.max(500, timelineClock.toReal(30_000)));
    phase('drain');

    // Final read.
    const summary = await pipelineApi.summary(pipelineUrl, token);
    const devices = fleet.progress();
    const finalAt = timelineClock.now();
    phase('final read');

    // Under faults, what the network forwarded decides the absence checks (verify/network.ts).
    const { prepared, ledger, faults, completeness, verdict, checks } = judge({
      faults: [...plannedFaults.map((p) => ({ name: p.fault.name, kind: p.fault.kind, from: p.fault.from, until: p.fault.until, devices: p.devices, healAt: p.healAt })), ...processFaults.windows(plan.devices.map((d) => d.deviceId))],
      watched: tracker.watched, episodes: tracker.finish(finalAt), heal: (f: string, d: string) => tracker.heal(f, d) ?? processFaults.heal(f, d),
      operatorOf, partnerOf, expectations: expectations.map((e) => deviceFaults.trueTrigger(e)), observations, offlineTimeoutMs: scenario.offlineTimeout, toleranceMs: absenceTolerance(scenario.speed),
      lateAllowanceMs: lateAllowance(scenario), window: { start, end: judgedEnd }, finalAt, mass: scenario.network.massCommunicationLoss, slaMs: scenario.slaMs,
      deviceTypes, devices, summary,
    });
    phase('verdict');
    journal.append({ t: 'event', at: timelineClock.now(), event: 'verdict', verdict });

    const result: RunResult = {
      schemaVersion: SCHEMA_VERSION,
      runId,
      vigilVersion: VIGIL_VERSION,
      command: opts.command,
      scenario: {
        name: scenario.name, file: opts.loaded.file, sha256: opts.loaded.sha256, seed: scenario.seed, speed: scenario.speed,
        devices: plan.devices.length, mix, start: new Date(start).toISOString(), end: new Date(end).toISOString(),
      },
      broker: { kind: opts.brokerUrl ? 'external' : 'embedded-aedes', url: brokerUrl },
      pipeline: { kind: opts.pipelineUrl ? 'external' : 'reference-child', url: pipelineUrl, server: health.server },
      startedAt,
      endedAt: new Date().toISOString(),
      phases,
      verdict,
      ledger: ledger.counts,
      perKind: ledger.perKind,
      perDeviceType: ledger.perDeviceType,
      latencyMs: ledger.latencyMs,
      latencyUnderFaultMs: ledger.latencyUnderFaultMs,
      completeness,
      checks,
      failures: ledger.failures,
      lateAllowed: ledger.lateAllowed,
      faults,
      absence: {
        toleranceMs: absenceTolerance(scenario.speed),
        lateAllowanceMs: lateAllowance(scenario),
        devicesWatched: tracker.watched.size,
        episodes: prepared.episodes.length,
        required: prepared.episodes.filter((e) => e.required).length,
        mass: prepared.mass,
        spuriousMass: prepared.spuriousMass.map((o) => o.alarm),
      },
      firmware: scenario.firmware,
      network: network ? { operators: scenario.network.operators, ...(await network.report()) } : null,
      fleet: {
        ...fleet.stats, records: devices.reduce((n, d) => n + d.lastSeq, 0), unacked: fleet.pending,
        resent: firmwares.reduce((n, fw) => n + fw.counters.resent, 0), evicted: firmwares.reduce((n, fw) => n + fw.counters.evicted, 0),
      },
      feed: { ...feed.stats },
    };
    writeFileSync(join(runDir, 'run.json'), JSON.stringify(result, null, 2));
    writeFileSync(join(runDir, 'junit.xml'), junitXml(result));
    return { result, runDir };
  } finally {
    await teardowns.unwind(log);
  }
}
