/**
 * The real devices of a run (issue 5 item 4): their serial sessions, opened and configured before
 * the fleet starts (a missing or busy port stops the run with exit 2 and the ports there are: the
 * HIL core's error); their records into the oracle and, in gateway mode, to the broker as the
 * device (hil/bridge.ts); their stimulus on the run's clock (hil/stimulus.ts); and what run.json
 * says of each. `close` is a teardown of the run: Ctrl-C and a failed run close the ports too.
 */
import type { DeviceLogin } from '../../sim/transport/link.ts';
import { join } from 'node:path';
import type { Clock } from '../../protocol/clock.ts';
import { VigilError } from '../../protocol/errors.ts';
import type { UplinkRecord } from '../../protocol/uplink.ts';
import type { HilSession, OpenHilSession } from '../../hil/api.ts';
import { HilBridge } from '../../hil/bridge.ts';
import { StimulusSchedule, StimulusStream } from '../../hil/stimulus.ts';
import { wearerTrajectory } from '../../hil/wearer.ts';
import { rng } from '../../sim/model/random.ts';
import { RecordMinutes, type RecordMinuteCounts } from '../../sim/record-minutes.ts';
import type { DeviceRecordState } from '../../verify/completeness.ts';
import type { HilDeviceReport } from '../../reports/run-result.ts';
import type { HilDevicePlan } from '../hil-plan.ts';
import type { RunContext } from './setup.ts';

interface Device {
  readonly plan: HilDevicePlan;
  readonly session: HilSession;
  readonly byteLog: string;
  /** The first seq this run can expect from it: the oldest record it still holds unacknowledged, or its next. */
  firstSeq: number;
  bridge?: HilBridge;
  stimulus?: StimulusStream;
}

export interface OpenOptions {
  readonly hil: readonly HilDevicePlan[];
  readonly runDir: string;
  readonly openSession: OpenHilSession;
  readonly log: (line: string) => void;
}

export class RunHil {
  private constructor(private readonly devices: Device[], private readonly log: (line: string) => void) {}

  /**
   * Opens, identifies and configures every device, in order; if one fails, those already open are
   * closed and the error (the core's: it names the port and lists the available ones) goes up.
   */
  static async open(o: OpenOptions): Promise<RunHil> {
    const devices: Device[] = [];
    try {
      for (const plan of o.hil) {
        const byteLog = `hil-${plan.deviceId}.log`;
        const session = await o.openSession(plan.match, { byteLogFile: join(o.runDir, byteLog), log: o.log });
        const device: Device = { plan, session, byteLog, firstSeq: 1 };
        devices.push(device);
        const id = session.identity;
        if (!id.deviceTypes.includes(plan.role)) {
          throw new VigilError('VIGIL_USAGE', `hil.${plan.index}: the device on ${session.port.path} (${id.model}, serial ${id.serialNumber}) cannot play ${plan.role}: it plays ${id.deviceTypes.join(', ') || 'nothing'}`,
            `give hil.${plan.index}.role one of ${id.deviceTypes.join(', ')}, or name another device`);
        }
        await session.configure({ deviceId: plan.deviceId, deviceType: plan.role });
        o.log(`hil ${plan.deviceId}: ${id.model} serial ${id.serialNumber}, firmware ${id.firmwareVersion}, on ${session.port.stablePath ?? session.port.path} (${plan.mode} mode)`);
        // A device's seq never goes back (DESIGN.md "Uplink"): one with a history starts this run
        // past seq 1. Its outbox is the unacknowledged tail (acks are cumulative), so the run
        // expects seqs from the oldest record it still holds, and provisions that as its firstSeq.
        const st = await session.status();
        device.firstSeq = Math.max(1, st.lastSeq - st.outbox + 1);
        if (device.firstSeq > 1) {
          o.log(`hil ${plan.deviceId}: the device made ${st.lastSeq} records before this run (${st.outbox} still unacknowledged): this run starts it at seq ${device.firstSeq}`);
        }
      }
    } catch (err) {
      await Promise.allSettled(devices.map((d) => d.session.close()));
      throw err;
    }
    return new RunHil(devices, o.log);
  }

  get size(): number {
    return this.devices.length;
  }

  /** Each device's first seq in this run, where it is past 1 (provisioned as its firstSeq). */
  firstSeqs(): Map<string, number> {
    return new Map(this.devices.filter((d) => d.firstSeq > 1).map((d) => [d.plan.deviceId, d.firstSeq]));
  }

  has(deviceId: string): boolean {
    return this.devices.some((d) => d.plan.deviceId === deviceId);
  }

  /** The devices that cannot run their clock at the run's speed (DESIGN.md "Time": the run then goes at speed 1). */
  get slowClocks(): string[] {
    return this.devices.filter((d) => !d.session.identity.followsVirtualTime).map((d) => d.plan.deviceId);
  }

  /**
   * Records start to flow: to the broker through `endpointOf` (gateway mode), and to the oracle
   * those the device made by the end of the run — a real device goes on recording after it, where a
   * virtual one stops, and the oracle takes nothing once it closed the run.
   */
  startBridges(o: { endpointOf: (deviceId: string) => string; onRecord: (r: UplinkRecord) => void; keepaliveS: number; start: number; end: number; login?: DeviceLogin | undefined }): void {
    this.recordUntil = o.end;
    // Records per minute of the gateway devices (a direct device's uplink is its own: not seen).
    // Before the timeline's clock runs, what they publish counts in minute 0.
    const minutes = this.minutes = new RecordMinutes(o.start);
    const now = (): number => this.clock?.now() ?? o.start;
    const toOracle = (r: UplinkRecord): void => {
      if (this.oracleOpen && r.time <= this.recordUntil) o.onRecord(r);
    };
    for (const d of this.devices) {
      const id = d.plan.deviceId;
      const bridge = d.bridge = new HilBridge({
        session: d.session, deviceId: id, mode: d.plan.mode, endpoint: () => o.endpointOf(id), onRecord: toOracle, keepaliveS: o.keepaliveS, log: this.log, login: o.login,
        onPublished: (fresh, again) => minutes.published(now(), fresh, again), onStored: (n) => minutes.stored(now(), n),
      });
      bridge.start();
    }
  }

  private oracleOpen = true;
  private recordUntil = Infinity;
  private minutes: RecordMinutes | undefined;
  private clock: Clock | undefined;

  /** The gateway devices' records sent, resent and stored per virtual minute (undefined before the bridges start). */
  get recordMinutes(): RecordMinuteCounts | undefined {
    return this.minutes?.counts();
  }

  /**
   * Before the oracle closes the run at virtual `end`: waits (at most `limitMs` real) until every
   * device sent a record made past it — its records up to `end` are then in, in seq order — and
   * from then on hands the oracle nothing.
   */
  async closeOracle(end: number, limitMs: number): Promise<void> {
    this.recordUntil = end;
    const deadline = Date.now() + limitMs;
    const behind = (): Device[] => this.devices.filter((d) => d.session.state === 'up' && (d.bridge?.seenTime ?? Infinity) <= end);
    while (behind().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const late = behind();
    if (late.length > 0) this.log(`hil: ${late.map((d) => d.plan.deviceId).join(', ')} sent nothing made after the end within ${Math.round(limitMs / 1000)} s: the oracle closes without what they may still send`);
    this.oracleOpen = false;
  }

  /** The timeline: each device's clock set, then its wearer's fixes and the scenario's events as they fall due. */
  startStimulus(o: { clock: Clock; seed: number; start: number }): void {
    this.clock = o.clock;
    const speed = o.clock.triple.speed;
    for (const d of this.devices) {
      const { plan } = d;
      const trajectory = wearerTrajectory(plan.deviceId, plan.wearer.routine, o.seed, o.start, plan.visits);
      const schedule = new StimulusSchedule({ trajectory, steps: plan.stimulus, start: o.start, noise: rng(o.seed, 'gps', plan.deviceId) });
      d.stimulus = new StimulusStream({ session: d.session, deviceId: plan.deviceId, schedule, clock: o.clock, speed, log: this.log });
      d.stimulus.start();
    }
  }

  /** Stops the stimulus: the timeline is over (the device's own firmware still sends what it holds). */
  async stopStimulus(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.stimulus?.stop()));
  }

  /** Gateway records the pipeline has not acknowledged. */
  get pending(): number {
    return this.devices.reduce((n, d) => n + (d.bridge?.unacked ?? 0), 0);
  }

  /** Highest seq seen from a device (the network's backlog at a heal). */
  lastSeqOf(deviceId: string): number | undefined {
    return this.devices.find((d) => d.plan.deviceId === deviceId)?.bridge?.seenSeq;
  }

  /**
   * The gateway devices' seqs as the run sees them (made, and acknowledged by the pipeline), for a
   * process fault's watch like a virtual device's. A direct device's acks go to it, not to Vigil:
   * it is left out.
   */
  gatewaySeqs(): { readonly deviceId: string; readonly lastSeq: number; readonly ackedSeq: number }[] {
    return this.devices.filter((d) => d.plan.mode === 'gateway').map((d) => ({
      deviceId: d.plan.deviceId,
      get lastSeq() {
        return d.bridge?.seenSeq ?? 0;
      },
      get ackedSeq() {
        return d.bridge?.acked ?? 0;
      },
    }));
  }

  /** What each device made by virtual `end`, for position completeness (hil/bridge.ts recordState). */
  recordStates(end: number): DeviceRecordState[] {
    return this.devices.map((d) => d.bridge?.recordState(end) ?? { deviceId: d.plan.deviceId, lastSeq: 0, ackedSeq: 0, pendingSeqs: [], evicted: 0 });
  }

  /** run.json's `hil.devices`. */
  report(): HilDeviceReport[] {
    return this.devices.map((d) => {
      const { plan, session } = d;
      const id = session.identity;
      return {
        deviceId: plan.deviceId, role: plan.role, mode: plan.mode,
        ...(plan.tookOver ? { tookOver: plan.tookOver } : {}), ...(plan.pairId ? { pairId: plan.pairId, victimId: plan.victimId } : {}),
        port: { path: session.port.path, ...(session.port.stablePath ? { stablePath: session.port.stablePath } : {}) },
        identity: { serialNumber: id.serialNumber, model: id.model, firmwareVersion: id.firmwareVersion, followsVirtualTime: id.followsVirtualTime, protocolVersion: id.protocolVersion },
        link: { ...session.stats },
        bridge: d.bridge ? { ...d.bridge.stats } : null,
        stimulus: d.stimulus ? { ...d.stimulus.stats, pendingEvents: d.stimulus.pendingEvents } : null,
        byteLog: d.byteLog,
      };
    });
  }

  /** Every path: stimulus, bridge, port. One that fails does not keep the others open. */
  async close(): Promise<void> {
    await Promise.allSettled(this.devices.map(async (d) => {
      try {
        await d.stimulus?.stop();
        await d.bridge?.close();
      } finally {
        await d.session.close();
      }
    }));
  }
}

export interface RealDevices {
  /** The run's context, at speed 1 when a device cannot follow virtual time. */
  readonly ctx: RunContext;
  readonly hil: RunHil | undefined;
  readonly speedForced: { readonly from: number; readonly to: 1; readonly devices: readonly string[] } | undefined;
}

/**
 * Opens the run's real devices, if it has any, before anything else starts, and registers their
 * teardown. A device that cannot run its clock at the run's speed forces the run to speed 1
 * (DESIGN.md "Time"), said in one line.
 */
export async function openRealDevices(ctx: RunContext, openSession: OpenHilSession | undefined, log: (line: string) => void): Promise<RealDevices> {
  if (ctx.hil.length === 0) return { ctx, hil: undefined, speedForced: undefined };
  if (openSession === undefined) {
    throw new VigilError('VIGIL_USAGE', `this run has ${ctx.hil.length} real device${ctx.hil.length > 1 ? 's' : ''} (hil) and no serial support to open them`, 'run it with the vigil command, or drop the hil section and --hil');
  }
  const hil = await RunHil.open({ hil: ctx.hil, runDir: ctx.runDir, openSession, log });
  ctx.teardowns.add('real devices', () => hil.close());
  const first = hil.firstSeqs();
  if (first.size > 0) {
    const fleet = { ...ctx.fleet, devices: ctx.fleet.devices.map((d) => (first.has(d.deviceId) ? { ...d, firstSeq: first.get(d.deviceId) } : d)) };
    ctx = { ...ctx, fleet };
  }
  const slow = hil.slowClocks;
  const from = ctx.scenario.speed;
  if (slow.length === 0 || from === 1) return { ctx, hil, speedForced: undefined };
  log(`hil: ${slow.join(', ')} cannot follow virtual time: the run goes at speed 1, not ${from} (DESIGN.md "Time")`);
  return { ctx: { ...ctx, scenario: { ...ctx.scenario, speed: 1 } }, hil, speedForced: { from, to: 1, devices: slow } };
}
