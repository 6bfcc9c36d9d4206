/**
 * The stimulus of a real device, streamed on the run's virtual clock: its wearer's GPS fixes and the
 * scenario's events (tamper, battery, charger), sent over its serial session as they fall due.
 *
 * Two parts: `StimulusSchedule` is pure (virtual time in, commands out), `StimulusStream` sends them
 * in order, one at a time (each waits for the device's ACK), sets the device's clock at the start
 * and after every reconnection, and keeps an event that could not be delivered while the device was
 * away until it is back: a tamper due while the device was unplugged happens when it returns.
 */
import type { Clock } from '../protocol/clock.ts';
import { DEVICE_DEFAULTS } from '../sim/model/defaults.ts';
import { round6, withNoise } from '../sim/model/geo.ts';
import type { Trajectory } from '../sim/model/mobility.ts';
import type { Rng } from '../sim/model/random.ts';
import type { HilSession } from './api.ts';

/** What a scenario's `hil[].stimulus` says, its times resolved to virtual ms (scenarios/hil-schema.ts). */
export type HilStimulusStep =
  | { readonly at: number; readonly action: 'tamper' }
  | { readonly at: number; readonly action: 'battery'; readonly percent: number }
  | { readonly at: number; readonly action: 'charger'; readonly connected: boolean }
  | { readonly at: number; readonly action: 'enterZone'; readonly zoneId: string; readonly stayMs: number }
  | { readonly at: number; readonly action: 'approachVictim'; readonly stayMs: number };

/** One command to the device, due at virtual `at`. `time` sets its clock (start, reconnection). */
export type HilCommand =
  | { readonly at: number; readonly kind: 'fix'; readonly lat: number; readonly lon: number; readonly accuracyM: number }
  | { readonly at: number; readonly kind: 'tamper' }
  | { readonly at: number; readonly kind: 'battery'; readonly percent: number }
  | { readonly at: number; readonly kind: 'charger'; readonly connected: boolean }
  | { readonly at: number; readonly kind: 'time' };

/**
 * DOMAIN.md: a GPS fix every 60 s when compliant, every 15 s while a rule is violated. The device's
 * firmware decides when it reports; it is given a fix at its fastest cadence, so whatever it reports
 * is at most that old.
 */
export const FIX_INJECT_INTERVAL_MS = DEVICE_DEFAULTS.violationFixIntervalMs;
/** The accuracy a simulated fix claims (sim/model/gps-device.ts reports the same). */
const FIX_ACCURACY_M = 5;

export interface ScheduleOptions {
  readonly trajectory: Trajectory;
  /** The scenario's events; `enterZone` and `approachVictim` steps are in the trajectory already and are skipped here. */
  readonly steps: readonly HilStimulusStep[];
  /** Virtual start of the timeline: the first fix. */
  readonly start: number;
  /** GPS noise (sim/model/geo.ts withNoise). */
  readonly noise: Rng;
  readonly fixIntervalMs?: number;
}

/** Virtual time → the commands due, in time order. Times asked never go back. */
export class StimulusSchedule {
  private nextFixAt: number;
  private readonly events: HilCommand[];
  private readonly interval: number;

  constructor(private readonly o: ScheduleOptions) {
    this.nextFixAt = o.start;
    this.interval = o.fixIntervalMs ?? FIX_INJECT_INTERVAL_MS;
    this.events = o.steps.flatMap((s): HilCommand[] => {
      switch (s.action) {
        case 'tamper': return [{ at: s.at, kind: 'tamper' }];
        case 'battery': return [{ at: s.at, kind: 'battery', percent: s.percent }];
        case 'charger': return [{ at: s.at, kind: 'charger', connected: s.connected }];
        case 'enterZone':
        case 'approachVictim':
          return [];
      }
    }).sort((a, b) => a.at - b.at);
  }

  /**
   * Every event due by `now`, and the latest fix due by then (an older one is stale before it could
   * be sent: a stalled loop sends where the wearer is, not where they were), in time order.
   */
  due(now: number): HilCommand[] {
    const out: HilCommand[] = [];
    while (this.events.length > 0 && (this.events[0] as HilCommand).at <= now) out.push(this.events.shift() as HilCommand);
    if (this.nextFixAt <= now) {
      const steps = Math.floor((now - this.nextFixAt) / this.interval);
      const at = this.nextFixAt + steps * this.interval;
      this.nextFixAt = at + this.interval;
      out.push(this.fixAt(at));
      out.sort((a, b) => a.at - b.at);
    }
    return out;
  }

  /** The wearer's fix at `t` (also after a reconnection, to give the device a position at once). */
  fixAt(t: number): HilCommand {
    const p = withNoise(this.o.trajectory.positionAt(t), this.o.noise);
    return { at: t, kind: 'fix', lat: round6(p.lat), lon: round6(p.lon), accuracyM: FIX_ACCURACY_M };
  }
}

export interface StimulusStats {
  fixes: number;
  events: number;
  /** set-time commands: at the start and after each reconnection. */
  clockSets: number;
  /** Commands the device did not acknowledge (retried for events, dropped for fixes). */
  failed: number;
  /** Events given up after MAX_EVENT_ATTEMPTS while the device was up (it refused them). */
  dropped: number;
}

/** An event the device keeps refusing while up (a NAK, not a missing device) is given up after this many tries, and said. */
const MAX_EVENT_ATTEMPTS = 5;
const TICK_MS = 50;

export interface StreamOptions {
  readonly session: HilSession;
  readonly deviceId: string;
  readonly schedule: StimulusSchedule;
  readonly clock: Clock;
  /** The speed the device's clock runs at: the run's (1 when a device cannot follow virtual time). */
  readonly speed: number;
  readonly log: (line: string) => void;
  /** Real ms between looks at the schedule (default 50). */
  readonly tickMs?: number;
}

/** Sends the schedule to the device as it falls due. */
export class StimulusStream {
  readonly stats: StimulusStats = { fixes: 0, events: 0, clockSets: 0, failed: 0, dropped: 0 };
  private readonly queue: { cmd: HilCommand; attempts: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private offState: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: StreamOptions) {}

  /** Sets the device's clock and starts streaming; after every reconnection, the clock and a fix again. */
  start(): void {
    const { session, clock } = this.o;
    this.enqueue({ at: clock.now(), kind: 'time' });
    let wasDown = session.state === 'down';
    this.offState = session.onState((state) => {
      if (state === 'down') {
        wasDown = true;
        return;
      }
      if (!wasDown) return;
      wasDown = false;
      const now = clock.now();
      // First, before anything queued: a device back from a reboot has lost its clock.
      this.queue.unshift({ cmd: { at: now, kind: 'time' }, attempts: 0 });
      this.enqueue(this.o.schedule.fixAt(now));
      this.pump();
    });
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? TICK_MS);
    this.tick();
  }

  /** Due commands into the queue, and sends. */
  tick(): void {
    for (const cmd of this.o.schedule.due(this.o.clock.now())) this.enqueue(cmd);
    this.pump();
  }

  /** A new fix replaces a fix still waiting: only where the wearer is now matters. */
  private enqueue(cmd: HilCommand): void {
    if (cmd.kind === 'fix') {
      // The head may be on the wire: never remove it.
      for (let i = this.queue.length - 1; i >= 1; i--) if ((this.queue[i] as { cmd: HilCommand }).cmd.kind === 'fix') this.queue.splice(i, 1);
    }
    this.queue.push({ cmd, attempts: 0 });
  }

  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = this.drain().finally(() => {
      this.pumping = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.length > 0 && this.o.session.state === 'up') {
      const head = this.queue[0] as { cmd: HilCommand; attempts: number };
      try {
        await this.send(head.cmd);
        this.remove(head);
      } catch (err) {
        this.stats.failed++;
        head.attempts++;
        const gone = this.o.session.state !== 'up';
        if (head.cmd.kind === 'fix') this.remove(head);
        else if (!gone && head.attempts >= MAX_EVENT_ATTEMPTS) {
          this.remove(head);
          this.stats.dropped++;
          this.o.log(`hil ${this.o.deviceId}: ${head.cmd.kind} not acknowledged after ${head.attempts} tries, given up: ${(err as Error).message}`);
        }
        // An event stays at the head: sent again at the next tick, or when the device is back.
        return;
      }
    }
  }

  /** By identity: a reconnection may have put a clock command in front while this one was on the wire. */
  private remove(item: { cmd: HilCommand; attempts: number }): void {
    const i = this.queue.indexOf(item);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private async send(cmd: HilCommand): Promise<void> {
    const s = this.o.session;
    switch (cmd.kind) {
      case 'time':
        // The clock is read when the command goes out, not when it was queued.
        await s.setTime(this.o.clock.now(), this.o.speed);
        this.stats.clockSets++;
        return;
      case 'fix':
        await s.injectFix({ lat: cmd.lat, lon: cmd.lon, accuracyM: cmd.accuracyM });
        this.stats.fixes++;
        return;
      case 'tamper':
        await s.injectTamper();
        break;
      case 'battery':
        await s.setBattery(cmd.percent);
        break;
      case 'charger':
        await s.setCharger(cmd.connected);
        break;
    }
    this.stats.events++;
  }

  /** Events still waiting (the device was away when they fell due, and has not come back). */
  get pendingEvents(): number {
    return this.queue.filter((q) => q.cmd.kind !== 'fix' && q.cmd.kind !== 'time').length;
  }

  /** Stops sending; waits for the command on the wire. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.offState?.();
    await this.pumping;
  }
}
