/**
 * Process faults on the run's timeline (DESIGN.md "broker / pipeline kill and restart", issue 4):
 * at a fault's `from` the reference pipeline child is killed with SIGKILL, or the broker stopped —
 * the embedded one closed abruptly, as a crash; a mosquitto of --mosquitto with SIGTERM, as an upgrade
 * (with the scenario's broker.persistence it writes its sessions and queues and reads them back,
 * sim/mosquitto.ts); at `until` it is started again on the same port (the pipeline on the same db
 * file, where it keeps its provisioning and state). Every kill and restart is journaled; `healAll`
 * runs at the end of the timeline and in the run's teardown, so an aborted run still restarts what
 * it killed.
 *
 * Every device is affected, so for the ledger each fault is a window over the whole fleet, healed
 * for every device when the process was serving again (verify/network.ts FaultWindow); the drain
 * is measured on what the devices got acknowledged.
 */
import { VigilError } from '../../protocol/errors.ts';
import type { RunningBroker } from '../../sim/broker.ts';
import type { PipelineChild } from '../../sim/pipeline-process.ts';
import type { HealWatch } from '../../verify/absence.ts';
import type { JournalEntry } from '../../verify/journal.ts';
import type { FaultWindow } from '../../verify/network.ts';
import { isProcessFault, type TimedFault, type TimedProcessFault } from '../schema.ts';
import type { PipelineFaultKind } from '../../protocol/pipeline-admin.ts';

/** A fault mode of the running pipeline, switched on and off — not a process killed and restarted. */
const isMode = (f: TimedProcessFault): boolean => f.kind === 'alarm-id-overflow' || f.kind === 'slow-consumer';

/**
 * Process faults need processes Vigil owns: stops the run before anything starts when the scenario
 * has one and the user gave an external broker or pipeline.
 */
export function checkProcessFaults(faults: readonly TimedFault[], external: { brokerUrl?: string | undefined; pipelineUrl?: string | undefined }, file: string): void {
  faults.forEach((f, i) => {
    if (f.kind === 'pipeline-restart' && external.pipelineUrl) {
      throw new VigilError('VIGIL_USAGE', `scenario ${file}: faults.${i}.kind: pipeline-restart kills and restarts the reference pipeline, but this run uses the pipeline at ${external.pipelineUrl}: Vigil cannot kill an external pipeline`,
        'drop --pipeline to run against the reference pipeline, or remove the fault');
    }
    if ((f.kind === 'alarm-id-overflow' || f.kind === 'slow-consumer') && external.pipelineUrl) {
      throw new VigilError('VIGIL_USAGE', `scenario ${file}: faults.${i}.kind: ${f.kind} switches a fault mode of the reference pipeline, but this run uses the pipeline at ${external.pipelineUrl}`,
        'drop --pipeline to run against the reference pipeline, or remove the fault');
    }
    if (f.kind === 'broker-restart' && external.brokerUrl) {
      throw new VigilError('VIGIL_USAGE', `scenario ${file}: faults.${i}.kind: broker-restart kills and restarts a broker Vigil runs, but this run uses the broker at ${external.brokerUrl}: Vigil cannot kill an external broker`,
        'drop --broker to run on the embedded broker, or use --mosquitto for a mosquitto Vigil starts and restarts (with the scenario\'s broker.persistence), or remove the fault');
    }
  });
}

/** What the drain is measured on: the fleet's firmwares. */
export interface DeviceSeqs {
  readonly deviceId: string;
  /** Highest seq made. */
  readonly lastSeq: number;
  /** Highest seq acknowledged. */
  readonly ackedSeq: number;
}

export interface ProcessFaultsOptions {
  /** The scenario's faults; the process ones are taken. */
  readonly faults: readonly TimedFault[];
  /** The embedded broker; undefined with --broker. */
  readonly broker: RunningBroker | undefined;
  /** The reference pipeline child; undefined with --pipeline. */
  readonly pipeline: PipelineChild | undefined;
  /** Switches a fault mode of the reference pipeline on or off (protocol/pipeline-admin.ts). */
  readonly pipelineFault?: (kind: PipelineFaultKind, active: boolean) => Promise<void>;
  readonly devices: readonly DeviceSeqs[];
  readonly virtualNow: () => number;
  readonly journal: (entry: JournalEntry) => void;
  readonly log: (line: string) => void;
  /**
   * The absence checks' view of the pipeline's restarts (verify/absence.ts SilenceTracker): a
   * restarted pipeline counts no silence from before it started watching.
   */
  readonly silence?: { pipelineKilled(at: number): void; pipelineWatching(at: number): void };
}

interface Pending {
  readonly fault: TimedProcessFault;
  state: 'waiting' | 'down' | 'restarting' | 'up' | 'skipped';
  /** Virtual ms the process was serving again. */
  healedAt?: number;
  /** Per device, after the heal: what it had to get acknowledged, and when it had. */
  watches?: Map<string, HealWatch>;
  undrained?: HealWatch[];
}

export class ProcessFaults {
  private readonly pending: Pending[];
  /** Kills and restarts run one at a time, in timeline order. */
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private readonly byId: ReadonlyMap<string, DeviceSeqs>;

  constructor(private readonly o: ProcessFaultsOptions) {
    this.pending = o.faults.filter(isProcessFault).map((fault) => ({ fault, state: 'waiting' }));
    this.byId = new Map(o.devices.map((d) => [d.deviceId, d]));
    for (const p of this.pending) {
      // checkProcessFaults ran before anything started; this is a programming error.
      if (!this.processOf(p.fault)) throw new Error(`process fault ${p.fault.name}: no ${p.fault.kind === 'broker-restart' ? 'embedded broker' : 'reference pipeline'} to act on`);
    }
  }

  get active(): boolean {
    return this.pending.length > 0;
  }

  /** `restart`'s callback: when a restarted pipeline says it started watching (sim/pipeline-process.ts); the others ignore it. */
  private processOf(f: TimedProcessFault): { kill(): Promise<void>; restart(onWatching?: (virtualMs: number) => void): Promise<void> } | undefined {
    if (f.kind === 'alarm-id-overflow' || f.kind === 'slow-consumer') {
      const set = this.o.pipelineFault;
      const kind = f.kind;
      return set && { kill: () => set(kind, true), restart: () => set(kind, false) };
    }
    return f.kind === 'broker-restart' ? this.o.broker : this.o.pipeline;
  }

  private enqueue(what: string, op: () => Promise<void>): void {
    this.chain = this.chain.then(op).catch((err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      this.o.log(`process fault: ${what} failed: ${e.message}`);
      this.failure ??= new Error(`${what} failed: ${e.message}`);
    });
  }

  private kill(p: Pending): void {
    const f = p.fault;
    p.state = 'down';
    this.enqueue(`${isMode(f) ? `start of ${f.kind}` : `kill of the ${f.kind === 'broker-restart' ? 'broker' : 'pipeline'}`} (${f.name})`, async () => {
      // Before the signal: an alarm due from here on may not have been raised by the process killed.
      if (f.kind === 'pipeline-restart') this.o.silence?.pipelineKilled(this.o.virtualNow());
      await this.processOf(f)?.kill();
      this.o.journal({ t: 'fault', event: 'start', at: this.o.virtualNow(), fault: f.name, kind: f.kind, scheduled: f.from });
    });
  }

  private restart(p: Pending): void {
    const f = p.fault;
    p.state = 'restarting';
    this.enqueue(`${isMode(f) ? `end of ${f.kind}` : `restart of the ${f.kind === 'broker-restart' ? 'broker' : 'pipeline'}`} (${f.name})`, async () => {
      let watchingFrom: number | undefined;
      await this.processOf(f)?.restart(f.kind !== 'pipeline-restart' ? undefined : (w) => {
        watchingFrom = w;
        this.o.silence?.pipelineWatching(w);
      });
      const at = this.o.virtualNow();
      p.state = 'up';
      p.healedAt = at;
      if (f.kind === 'pipeline-restart' && watchingFrom === undefined) {
        // Its line saying when it started watching was not seen: it was watching by now at the latest.
        watchingFrom = at;
        this.o.silence?.pipelineWatching(at);
      }
      this.o.journal({ t: 'fault', event: 'heal', at, fault: f.name, kind: f.kind, scheduled: f.until, ...(watchingFrom !== undefined && { watchingFrom }) });
      p.watches = new Map(this.o.devices.map((d) => [d.deviceId, { fault: f.name, deviceId: d.deviceId, healAt: at, need: d.lastSeq, linkBackAt: at, drainedAt: undefined }]));
      p.undrained = [...p.watches.values()];
      this.checkDrain(p, at);
    });
  }

  /** A device has drained once everything it had made at the heal is acknowledged. */
  private checkDrain(p: Pending, now: number): void {
    if (!p.undrained || p.undrained.length === 0) return;
    p.undrained = p.undrained.filter((w) => {
      if ((this.byId.get(w.deviceId)?.ackedSeq ?? 0) < (w.need ?? 0)) return true;
      w.drainedAt = now;
      return false;
    });
  }

  /** Kills and restarts what is due by virtual `now`. */
  tick(now: number): void {
    for (const p of this.pending) {
      if (p.state === 'waiting' && now >= p.fault.from) this.kill(p);
      if (p.state === 'down' && now >= p.fault.until) this.restart(p);
      if (p.state === 'up') this.checkDrain(p, now);
    }
  }

  /**
   * Restarts whatever is down, now: the end of the timeline, an abort, or a crash. Idempotent.
   * Throws when a kill or restart failed (the run cannot read a pipeline that did not come back).
   */
  async healAll(now: number): Promise<void> {
    // The broker first: a restarting pipeline waits for its MQTT subscription.
    const order = [...this.pending].sort((a, b) => Number(a.fault.kind !== 'broker-restart') - Number(b.fault.kind !== 'broker-restart'));
    for (const p of order) {
      if (p.state === 'waiting') p.state = 'skipped';
      if (p.state === 'down') this.restart(p);
    }
    await this.chain;
    for (const p of this.pending) if (p.state === 'up') this.checkDrain(p, now);
    if (this.failure) throw this.failure;
  }

  /** The faults as the ledger's windows: every device, healed when the process served again. */
  windows(deviceIds: readonly string[]): FaultWindow[] {
    return this.pending.map((p) => {
      const healAt = p.healedAt ?? p.fault.until;
      return { name: p.fault.name, kind: p.fault.kind, from: p.fault.from, until: p.fault.until, devices: deviceIds, healAt: new Map(deviceIds.map((id) => [id, healAt])) };
    });
  }

  /** A device's heal of a process fault: back when the process was, drained when its backlog was acknowledged. */
  heal(fault: string, deviceId: string): HealWatch | undefined {
    return this.pending.find((p) => p.fault.name === fault)?.watches?.get(deviceId);
  }
}
