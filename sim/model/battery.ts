/**
 * Batteries, as timelines of transitions a device model walks in time order.
 *
 * - The GPS bracelet's (PSEM, BAR units): DOMAIN.md "≤ 50 h on a charge, ≥ 2 h charging a day". The
 *   wearer charges every evening at home; a wearer who forgets stops charging until the battery is
 *   low (≤ 15 %, the pipeline's low_battery), then charges some hours later, after it died for some.
 * - The PSE home unit's backup battery: full on mains; drains while the mains are off; an empty one
 *   silences the unit until the mains come back.
 */
import { localDay, localInstant } from './localtime.ts';
import { nextPoisson, type Rng } from './random.ts';

const H = 3_600_000;
const MIN = 60_000;

export const BRACELET_BATTERY = {
  /** docs/RULES.md low_battery threshold. */
  lowPercent: 15,
  /** After the battery reached 15 %, the forgetful wearer plugs in after U(1 h, 10 h): at 2 %/h it dies after 7.5 h. */
  recoveryMinH: 1,
  recoveryMaxH: 10,
  /** DOMAIN.md: ≥ 2 h charging a day. */
  sessionMinH: 2,
  sessionMaxH: 3,
  /** Local time the wearer plugs in in the evening (per wearer), ± a daily jitter. */
  plugInFromMin: 19 * 60 + 30,
  plugInToMin: 23 * 60,
  jitterMin: 20,
} as const;

export const BACKUP_BATTERY = {
  lowPercent: 15,
  /** A backup battery lasting ~16 h. */
  drainPerHour: 6,
  chargePerHour: 20,
  /** Most cuts are short (a breaker, a plug pulled and put back): 1 min + Exp(30 min)… */
  shortMeanMin: 30,
  /** …some are long (unplugged, power cut off for unpaid bills): U(2 h, 24 h). */
  longShare: 0.1,
  longMinH: 2,
  longMaxH: 24,
} as const;

export type BatteryEvent = 'charger_connected' | 'charger_disconnected' | 'mains_lost' | 'mains_restored';

/** A battery a device model walks: it applies the transition due at nextAt() and reports its event. */
export interface Battery {
  /** Time of the next transition. */
  nextAt(): number;
  /** Applies it; the event to report, or undefined for a silent one (the battery dies). */
  apply(): BatteryEvent | undefined;
  /** Percent at t (≥ the last transition), rounded. */
  percentAt(t: number): number;
  /** True while the battery is empty: the device makes no records. */
  readonly dead: boolean;
}

interface Session {
  readonly start: number;
  readonly end: number;
}

export interface BraceletBatteryOptions {
  readonly start: number;
  readonly drainPerHour: number;
  readonly chargePerHour: number;
  /** Local minute the wearer plugs in most evenings. */
  readonly plugInMin: number;
  readonly forgetPerDay: number;
}

/**
 * Forgetting is planned backwards from its outcome so that `forgetPerDay` is the rate of low
 * batteries: the n-th low battery is due around E(n) (Poisson); from E(n) − 42.5 h (a full battery's
 * time to 15 %) the wearer skips the evening charges, so the battery reaches 15 % within a day
 * before E(n) (exactly at E(n) when the spell is under way at the start). A run starts in the
 * steady state: low (or dead) when an episode is under way, mid-spell when the next is close, else
 * drained since last evening's charge.
 */
export class BraceletBattery implements Battery {
  private level: number;
  private at: number;
  private mode: 'drain' | 'charge' | 'dead' = 'drain';
  private sessionEnd = Infinity;
  private recovering = false;
  private nextSession!: Session;
  private day: number;
  /** Target time of the next low battery, and the spell before it. */
  private episode: number;
  private inSpell = false;
  private recoverAt = Infinity;
  private readonly drain: number;
  private readonly charge: number;
  private readonly fullToLowMs: number;
  // The two options it reads again, as fields: no options object kept per bracelet.
  private readonly plugInMin: number;
  private readonly forgetPerDay: number;

  constructor(o: BraceletBatteryOptions, private readonly r: Rng) {
    this.plugInMin = o.plugInMin;
    this.forgetPerDay = o.forgetPerDay;
    this.drain = o.drainPerHour / H;
    this.charge = o.chargePerHour / H;
    this.fullToLowMs = (100 - BRACELET_BATTERY.lowPercent) / this.drain;
    const t0 = o.start;
    this.at = t0;
    this.day = localDay(t0) - 1;
    const yesterday = this.session(this.day++);
    let today = this.session(this.day++);
    // Episodes are drawn from as far back as a wearer may stay low, so some start the run low or dead.
    this.episode = nextPoisson(r, t0 - BRACELET_BATTERY.recoveryMaxH * H, o.forgetPerDay);
    while (this.episode < t0) {
      const recoverAt = Math.round(this.episode + r.between(BRACELET_BATTERY.recoveryMinH, BRACELET_BATTERY.recoveryMaxH) * H);
      if (recoverAt > t0) {
        // Low since E, not plugged in yet.
        this.level = Math.max(0, BRACELET_BATTERY.lowPercent - (t0 - this.episode) * this.drain);
        this.mode = this.level > 0 ? 'drain' : 'dead';
        this.inSpell = true;
        this.recoverAt = recoverAt;
        this.nextSession = today;
        return;
      }
      this.episode = nextPoisson(r, this.episode, o.forgetPerDay); // that one is over
    }
    if (this.episode - this.fullToLowMs <= t0) {
      // Mid-spell: 15 % exactly at E(1).
      this.level = Math.min(100, BRACELET_BATTERY.lowPercent + (this.episode - t0) * this.drain);
      this.enterSpell();
    } else {
      const last = today.start <= t0 ? today : yesterday;
      if (last === today) today = this.session(this.day++);
      if (t0 < last.end) {
        this.mode = 'charge';
        this.sessionEnd = last.end;
        this.level = Math.min(100, 100 - (24 * H - (last.end - last.start)) * this.drain + (t0 - last.start) * this.charge);
      } else {
        this.level = Math.max(0, 100 - (t0 - last.end) * this.drain);
      }
    }
    this.nextSession = today;
  }

  get dead(): boolean {
    return this.mode === 'dead';
  }

  private session(day: number): Session {
    const b = BRACELET_BATTERY;
    const start = localInstant(day, this.plugInMin + this.r.between(-b.jitterMin, b.jitterMin));
    return { start, end: Math.round(start + this.r.between(b.sessionMinH, b.sessionMaxH) * H) };
  }

  private levelAt(t: number): number {
    const dt = t - this.at;
    if (this.mode === 'drain') return Math.max(0, this.level - dt * this.drain);
    if (this.mode === 'charge') return Math.min(100, this.level + dt * this.charge);
    return 0;
  }

  percentAt(t: number): number {
    return Math.round(this.levelAt(t));
  }

  private enterSpell(): void {
    this.inSpell = true;
    const crossAt = this.at + Math.max(0, this.level - BRACELET_BATTERY.lowPercent) / this.drain;
    this.recoverAt = Math.round(crossAt + this.r.between(BRACELET_BATTERY.recoveryMinH, BRACELET_BATTERY.recoveryMaxH) * H);
  }

  nextAt(): number {
    if (this.mode === 'charge') return this.sessionEnd;
    if (this.mode === 'dead') return this.recoverAt;
    if (!this.inSpell) {
      while (this.nextSession.start < this.at) this.nextSession = this.session(this.day++);
      if (this.nextSession.start < this.episode - this.fullToLowMs) return this.nextSession.start;
      this.enterSpell();
    }
    return Math.min(this.recoverAt, this.at + this.level / this.drain);
  }

  apply(): BatteryEvent | undefined {
    const t = this.nextAt();
    const level = this.levelAt(t);
    this.at = t;
    this.level = level;
    if (this.mode === 'charge') {
      this.mode = 'drain';
      if (this.recovering) {
        this.recovering = false;
        this.inSpell = false;
        this.recoverAt = Infinity;
        this.episode = nextPoisson(this.r, this.episode, this.forgetPerDay);
      }
      return 'charger_disconnected';
    }
    if (this.inSpell && t === this.recoverAt) {
      this.mode = 'charge';
      this.recovering = true;
      this.sessionEnd = Math.round(t + this.r.between(BRACELET_BATTERY.sessionMinH, BRACELET_BATTERY.sessionMaxH) * H);
      return 'charger_connected';
    }
    if (this.inSpell) {
      this.mode = 'dead';
      this.level = 0;
      return undefined;
    }
    this.mode = 'charge';
    this.sessionEnd = this.nextSession.end;
    this.nextSession = this.session(this.day++);
    return 'charger_connected';
  }
}

export interface BackupBatteryOptions {
  readonly start: number;
  readonly cutsPerDay: number;
}

/** The same for every unit: module constants, not two boxed numbers per unit. */
const BACKUP_DRAIN_PER_MS = BACKUP_BATTERY.drainPerHour / H;
const BACKUP_CHARGE_PER_MS = BACKUP_BATTERY.chargePerHour / H;

/** The PSE home unit's backup battery under mains cuts; started 48 h early so the run opens in the steady state. */
export class BackupBattery implements Battery {
  private level = 100;
  private at: number;
  private mains = true;
  private isDead = false;
  private cutAt: number;
  private restoreAt = Infinity;
  // As fields of its own, not the options object (most of the 2021 replay's fleet are PSE units).
  private readonly cutsPerDay: number;

  constructor(o: BackupBatteryOptions, private readonly r: Rng) {
    this.cutsPerDay = o.cutsPerDay;
    this.at = o.start - 48 * H;
    this.cutAt = Math.round(nextPoisson(r, this.at, o.cutsPerDay));
    while (this.nextAt() < o.start) this.apply();
  }

  get dead(): boolean {
    return this.isDead;
  }

  private levelAt(t: number): number {
    const dt = t - this.at;
    return this.mains ? Math.min(100, this.level + dt * BACKUP_CHARGE_PER_MS) : Math.max(0, this.level - dt * BACKUP_DRAIN_PER_MS);
  }

  percentAt(t: number): number {
    return Math.round(this.levelAt(t));
  }

  nextAt(): number {
    if (this.mains) return this.cutAt;
    return this.isDead ? this.restoreAt : Math.min(this.restoreAt, this.at + this.level / BACKUP_DRAIN_PER_MS);
  }

  apply(): BatteryEvent | undefined {
    const t = this.nextAt();
    this.level = this.levelAt(t);
    this.at = t;
    if (this.mains) {
      this.mains = false;
      const b = BACKUP_BATTERY;
      const long = this.r.chance(b.longShare);
      this.restoreAt = Math.round(t + (long ? this.r.between(b.longMinH, b.longMaxH) * H : MIN - Math.log(1 - this.r.next()) * b.shortMeanMin * MIN));
      return 'mains_lost';
    }
    if (t === this.restoreAt) {
      this.mains = true;
      this.isDead = false;
      this.cutAt = Math.round(nextPoisson(this.r, t, this.cutsPerDay));
      return 'mains_restored';
    }
    this.isDead = true;
    this.level = 0;
    return undefined;
  }
}
