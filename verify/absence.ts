/**
 * Absence checks: the alarms that must fire because data went silent (DESIGN.md "The ledger",
 * issue 4). Pure: a live run and a journal replay compute the same thing.
 *
 * Per device. Under a network fault, the oracle's view (gaps between the records a device MADE)
 * is not what the pipeline sees: a device in 2021 kept recording every minute, and nothing arrived.
 * So for every device a fault touched, the expected communication_loss alarms come from what the
 * operator network actually FORWARDED to the broker (the proxy reports each uplink it passes on),
 * run through docs/RULES.md's rule: with L the device time of the highest seq forwarded and R the
 * moment the rule re-armed, an alarm naming that seq is due at max(L, R) + offlineTimeout unless a
 * newer record arrives first. Forwarding is not arrival at the pipeline (broker hop, group commit),
 * so a record arriving within `toleranceMs` of the deadline makes the alarm optional: neither
 * required nor spurious.
 *
 * Mass. docs/RULES.md mass_communication_loss: per operator, S = devices with a communication_loss
 * open; raised when S ≥ K = max(minDevices, ⌈share × N⌉), recovered when S ≤ ⌊K/2⌋. The harness
 * knows S only within bounds — lower: alarms that must be open; upper: plus those that may be — so
 * the mass alarm is required once the lower bound reaches K, and may come from when the upper one
 * does; its recovery is due once the upper bound falls to ⌊K/2⌋.
 */
import type { Expectation } from '../sim/model/oracle/oracle.ts';

/** An uplink the network forwarded: at virtual `at`, the device's highest seq forwarded became `seq`, made at `time`. */
export interface Forwarded {
  readonly at: number;
  readonly seq: number;
  readonly time: number;
}

export interface AbsenceEpisode {
  readonly deviceId: string;
  readonly seq: number;
  readonly deviceTime: number;
  /** When the alarm is due: max(L, R) + offlineTimeout, or when the record it names arrived if later. */
  readonly triggerTime: number;
  readonly required: boolean;
  /** When the silence ended as the network saw it (the next record forwarded); Infinity: never. */
  readonly until: number;
}

/**
 * A reference pipeline killed and started again in the middle of the run (the pipeline-restart
 * fault). The new process counts no silence before it started watching (docs/RULES.md "Watching
 * since" W): an alarm the killed process had not raised by its death is due at max(L, R, W) +
 * offlineTimeout. `watchingFrom` is undefined while no new process has said when it started.
 */
export interface PipelineRestart {
  readonly killedAt: number;
  watchingFrom: number | undefined;
}

export interface AbsenceOptions {
  readonly offlineTimeoutMs: number;
  readonly toleranceMs: number;
  /** End of the timeline: alarms due after it are not judged. */
  readonly end: number;
  /** Virtual time of the final read: a silence still going on by then. */
  readonly finalAt: number;
  /** The pipeline's restarts in time order (none: it ran throughout). */
  readonly restarts?: readonly PipelineRestart[];
}

/** The rule of docs/RULES.md run over one device's forwarded uplinks, one at a time. */
class DeviceSilence {
  private seq = 0;
  private lastTime = 0;
  private rearmedAt = -Infinity;
  /** When the record at `seq` was forwarded. */
  private lastAt = -Infinity;
  readonly episodes: AbsenceEpisode[] = [];

  constructor(private readonly deviceId: string, private readonly o: Omit<AbsenceOptions, 'finalAt'>) {}

  /** Set by due(): two numbers, not an object per forwarded record (a replay forwards millions). */
  private deadline = Infinity;
  private early = Infinity;

  /**
   * When the alarm is due (`deadline`): max(L, R) + offlineTimeout, unless the pipeline process that
   * would have raised it was killed first — then max(L, R, W) + offlineTimeout with the W of the
   * process that took over (Infinity while none has). `early` is the deadline without that deferral
   * when the kill came within the tolerance after it (the killed process may or may not have raised
   * the alarm as it died), else the same as `deadline`.
   */
  private due(): void {
    const off = this.o.offlineTimeoutMs;
    let at = Math.max(this.lastTime, this.rearmedAt) + off;
    let early = Infinity;
    for (const r of this.o.restarts ?? []) {
      if (at <= r.killedAt) break;
      if (at <= r.killedAt + this.o.toleranceMs) early = Math.min(early, at);
      at = Math.max(at, r.watchingFrom === undefined ? Infinity : r.watchingFrom + off);
    }
    this.deadline = at;
    this.early = Math.min(early, at);
  }

  step(f: Forwarded): void {
    if (f.seq <= this.seq) return; // a resend: the pipeline dedupes it, the rule ignores it
    if (this.seq > 0) {
      this.due();
      const { deadline, early } = this;
      if (early <= this.o.end && f.at >= early - this.o.toleranceMs) {
        // Between the two deadlines the alarm may or may not come: optional.
        const sure = f.at >= deadline - this.o.toleranceMs && deadline <= this.o.end;
        this.episodes.push({ deviceId: this.deviceId, seq: this.seq, deviceTime: this.lastTime, triggerTime: this.opensAt(sure ? deadline : early), required: sure && this.required(deadline, f.at), until: f.at });
        this.rearmedAt = f.at;
      }
    }
    this.seq = f.seq;
    this.lastTime = f.time;
    this.lastAt = f.at;
  }

  /**
   * Whether a silence that ended at `until` must have raised the alarm: when it outlasted the
   * tolerance (forwarding is not arrival: broker hop, group commit) from the moment the alarm could
   * open — its deadline, or when the record it names was forwarded if that is later (a backlog
   * record, a clock that jumped back: the alarm cannot open before that record is stored, and a
   * newer one right behind it may be stored in the same commit).
   */
  private required(deadline: number, until: number): boolean {
    return until > this.opensAt(deadline) + this.o.toleranceMs;
  }

  /**
   * When the alarm can be raised: at its deadline, but not before the record it names reached the
   * pipeline — a clock that jumped back stamps a record with a deadline already past.
   */
  private opensAt(deadline: number): number {
    return Math.max(deadline, this.lastAt);
  }

  /** The silence still going on at the final read, if any. */
  finish(finalAt: number): AbsenceEpisode[] {
    if (this.seq === 0) return this.episodes;
    this.due();
    const { deadline, early } = this;
    if (early > this.o.end) return this.episodes;
    const sure = deadline <= this.o.end;
    return [...this.episodes, { deviceId: this.deviceId, seq: this.seq, deviceTime: this.lastTime, triggerTime: this.opensAt(sure ? deadline : early), required: sure && this.required(deadline, finalAt), until: Infinity }];
  }
}

/** The communication_loss episodes of one device from what its operator network forwarded (in `at` order). */
export function deviceAbsences(deviceId: string, forwarded: readonly Forwarded[], o: AbsenceOptions): AbsenceEpisode[] {
  const d = new DeviceSilence(deviceId, o);
  for (const f of forwarded) d.step(f);
  return d.finish(o.finalAt);
}

/** After a device's fault is healed: when its link came back, and when its backlog had gone through. */
export interface HealWatch {
  readonly fault: string;
  readonly deviceId: string;
  readonly healAt: number;
  /** The highest seq the device had made at its heal (set when the heal happens). */
  need: number | undefined;
  /** First uplink forwarded at or after the heal. */
  linkBackAt: number | undefined;
  /** First moment the forwarded seq reached `need`. */
  drainedAt: number | undefined;
  /** Highest seq forwarded before the heal (0 or absent: none). */
  forwardedBefore?: number;
}

/**
 * When the device's backlog had gone through: at the heal itself when everything it had made was
 * already forwarded before the fault took it (a device gone silent on its own — a flat battery, a
 * unit unplugged — has no backlog), else the first forward after the heal that reached `need`.
 */
export function drainedBy(w: HealWatch): number | undefined {
  if (w.need !== undefined && w.need <= (w.forwardedBefore ?? 0)) return w.healAt;
  return w.drainedAt;
}

/**
 * Streams the uplinks the operator proxies forward for the devices the faults touch, keeping only
 * what the checks need (a 9-hour replay forwards millions): each device's silence episodes and, per
 * fault it is under, when its link came back and its backlog drained.
 */
export class SilenceTracker {
  private readonly devices = new Map<string, DeviceSilence>();
  private readonly heals = new Map<string, HealWatch[]>();

  /** The pipeline's restarts so far, shared by every device's rule. */
  private readonly restarts: PipelineRestart[] = [];
  private readonly rule: Omit<AbsenceOptions, 'finalAt'>;

  constructor(o: Omit<AbsenceOptions, 'finalAt' | 'restarts'>) {
    this.rule = { ...o, restarts: this.restarts };
  }

  watch(deviceId: string): void {
    if (!this.devices.has(deviceId)) this.devices.set(deviceId, new DeviceSilence(deviceId, this.rule));
  }

  /** The reference pipeline was killed at virtual `at`: no silence is counted until a new one watches. */
  pipelineKilled(at: number): void {
    this.restarts.push({ killedAt: at, watchingFrom: undefined });
  }

  /** The pipeline started again, watching from virtual `at` (what it said: docs/RULES.md "Watching since"). */
  pipelineWatching(at: number): void {
    // Restarts run one at a time (scenarios/runner/process-faults.ts): this is the last kill's.
    const r = this.restarts.at(-1);
    if (r && r.watchingFrom === undefined) r.watchingFrom = Math.max(at, r.killedAt);
  }

  isWatched(deviceId: string): boolean {
    return this.devices.has(deviceId);
  }

  get watched(): ReadonlySet<string> {
    return new Set(this.devices.keys());
  }

  /** A fault will be healed for `deviceId` at `healAt` (virtual). */
  expectHeal(fault: string, deviceId: string, healAt: number): HealWatch {
    this.watch(deviceId);
    const w: HealWatch = { fault, deviceId, healAt, need: undefined, linkBackAt: undefined, drainedAt: undefined };
    const list = this.heals.get(deviceId);
    if (list) list.push(w);
    else this.heals.set(deviceId, [w]);
    return w;
  }

  forwarded(deviceId: string, f: Forwarded): void {
    this.devices.get(deviceId)?.step(f);
    const heals = this.heals.get(deviceId);
    if (!heals) return;
    for (const w of heals) {
      if (f.at < w.healAt) {
        if (f.seq > (w.forwardedBefore ?? 0)) w.forwardedBefore = f.seq;
        continue;
      }
      w.linkBackAt ??= f.at;
      if (w.drainedAt === undefined && w.need !== undefined && f.seq >= w.need) w.drainedAt = f.at;
    }
  }

  heal(fault: string, deviceId: string): HealWatch | undefined {
    return this.heals.get(deviceId)?.find((w) => w.fault === fault);
  }

  finish(finalAt: number): AbsenceEpisode[] {
    return [...this.devices.values()].flatMap((d) => d.finish(finalAt));
  }
}

export interface MassOptions {
  readonly share: number;
  readonly minDevices: number;
  readonly slaMs: number;
  readonly end: number;
}

/** One outage of an operator as the harness bounds it. */
export interface MassEpisode {
  readonly operator: string;
  /** The loss alarm must come: some moment within the timeline had ≥ K devices surely silent. */
  readonly required: boolean;
  /** Earliest moment S may have reached K (the alarm may come from here). */
  readonly mayFrom: number;
  /** Moment S surely reached K (the trigger time of a required alarm), or undefined when not required. */
  readonly trigger: number | undefined;
  /** Earliest moment S may have fallen to ⌊K/2⌋ after it. */
  readonly recoveryMayFrom: number;
  /** Moment S surely fell to ⌊K/2⌋ (recovery trigger); Infinity when it had not by the end. */
  readonly recoveryTrigger: number;
  readonly threshold: number;
  readonly devices: number;
  /** Peak of the lower bound of S during the episode. */
  readonly peakSilent: number;
}

interface Interval {
  readonly from: number;
  readonly until: number;
  readonly required: boolean;
}

/** K for an operator of `n` devices (docs/RULES.md). Infinity when the rule never fires. */
export function massThreshold(n: number, share: number, minDevices: number): number {
  // RULES.md: share × N rounded to 6 decimals before the ceiling (0.07 × 100 is 7.000000000000001).
  const k = Math.max(minDevices, Math.ceil(Number((share * n).toFixed(6))));
  return k > n ? Infinity : k;
}

/**
 * The mass outages of one operator from its devices' open communication_loss intervals.
 * Episodes are the upper bound's (it opens first and closes last); each is required when the lower
 * bound reached K inside it.
 */
export function massEpisodes(operator: string, devices: number, intervals: readonly Interval[], o: MassOptions): MassEpisode[] {
  const k = massThreshold(devices, o.share, o.minDevices);
  if (!Number.isFinite(k)) return [];
  const half = Math.floor(k / 2);
  const events: { t: number; dLo: number; dUp: number }[] = [];
  for (const iv of intervals) {
    if (!(iv.until > iv.from)) continue;
    events.push({ t: iv.from, dLo: iv.required ? 1 : 0, dUp: 1 });
    if (Number.isFinite(iv.until)) events.push({ t: iv.until, dLo: iv.required ? -1 : 0, dUp: -1 });
  }
  // Closings before openings at the same instant: the pipeline re-arms before the next sweep.
  events.sort((a, b) => a.t - b.t || a.dUp - b.dUp);
  const out: MassEpisode[] = [];
  let lo = 0;
  let up = 0;
  let open: { mayFrom: number; trigger: number | undefined; recoveryMayFrom: number; peak: number } | undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as (typeof events)[number];
    lo += e.dLo;
    up += e.dUp;
    const next = events[i + 1];
    if (next && next.t === e.t) continue; // judge the state after every change at this instant
    if (!open) {
      if (up >= k && e.t <= o.end) open = { mayFrom: e.t, trigger: undefined, recoveryMayFrom: Infinity, peak: 0 };
    }
    if (open) {
      open.peak = Math.max(open.peak, lo);
      if (lo >= k && open.trigger === undefined && e.t <= o.end) open.trigger = e.t;
      if (lo <= half && open.trigger !== undefined && open.recoveryMayFrom === Infinity) open.recoveryMayFrom = e.t;
      if (up <= half) {
        out.push(episode(operator, devices, k, open, e.t));
        open = undefined;
      }
    }
  }
  if (open) out.push(episode(operator, devices, k, open, Infinity));
  return out;
}

function episode(operator: string, devices: number, k: number, s: { mayFrom: number; trigger: number | undefined; recoveryMayFrom: number; peak: number }, closedAt: number): MassEpisode {
  return {
    operator, required: s.trigger !== undefined, mayFrom: s.mayFrom, trigger: s.trigger,
    recoveryMayFrom: Math.min(s.recoveryMayFrom, closedAt), recoveryTrigger: closedAt, threshold: k, devices, peakSilent: s.peak,
  };
}

/** Open intervals of communication_loss for the mass rule: the network's episodes, and the oracle's for devices no fault touched. */
export function openIntervals(episodes: readonly AbsenceEpisode[], oracleLosses: readonly Expectation[], toleranceMs = 0): Map<string, Interval[]> {
  const byDevice = new Map<string, Interval[]>();
  const add = (id: string, iv: Interval): void => {
    const list = byDevice.get(id);
    if (list) list.push(iv);
    else byDevice.set(id, [iv]);
  };
  // An alarm open for less than the tolerance (raised at a sweep, re-armed by the next record) may
  // never have been open as the pipeline saw it: it may count, it need not.
  for (const e of episodes) add(e.deviceId, { from: e.triggerTime, until: e.until, required: e.required && e.until - e.triggerTime > toleranceMs });
  // A data silence ends when the next record arrives: about its device time, the network being healthy.
  for (const e of oracleLosses) add(e.deviceId, { from: e.triggerTime, until: e.silentUntil ?? Infinity, required: true });
  return byDevice;
}
