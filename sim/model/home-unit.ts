/**
 * The PSE home unit as a record source. It is the device on the network; the wearer's RF bracelet
 * beacons to it every 20 s (DOMAIN.md). It reports, at once:
 * - rf_absent when it missed the beacon for 60 s, rf_present at the first beacon it hears again
 *   (docs/RULES.md), from the wearer's comings and goings (mobility.ts); at the start of a run, an
 *   absent wearer is reported absent at once (the unit's status at boot, so a run that starts while
 *   the wearer is at work still sees a late return that evening);
 * - curfew_start at each programmed curfew period's start (local time, DST included);
 * - strap_tamper (the bracelet's), unit_tamper, unit_moved;
 * - mains_lost / mains_restored; on backup battery it drains (the records' battery field), and an
 *   empty one silences the unit until the mains come back;
 * - a heartbeat after 180 s without a record.
 */
import { PeekingSource } from './peeking-source.ts';
import type { BackupBattery } from './battery.ts';
import type { FirmwareConfig } from './firmware.ts';
import type { PoissonEvents } from './incidents.ts';
import { localDay, Periods, type LocalWindow } from './localtime.ts';
import type { Trajectory } from './mobility.ts';

export interface HomeUnitOptions {
  readonly deviceId: string;
  readonly cfg: FirmwareConfig;
  readonly start: number;
  /** Offset of the first heartbeat, so the fleet's reports are spread. */
  readonly firstRecordDelayMs: number;
  readonly trajectory: Trajectory;
  readonly curfews: readonly LocalWindow[];
  readonly battery: BackupBattery;
  /** Phase of the bracelet's beacon, ms within its period. */
  readonly beaconPhaseMs: number;
  readonly events: readonly { readonly event: 'strap_tamper' | 'unit_tamper' | 'unit_moved'; readonly stream: PoissonEvents }[];
  readonly faultAt: number;
}

export class HomeUnit extends PeekingSource<BackupBattery> {
  private readonly periods: Periods;
  /** What the unit last reported (the pipeline starts with "present"). */
  private reportedHome = true;
  /** Where the wearer is, since when, and when to look again. */
  private home: boolean;
  private since: number;
  private lookAt: number;
  /** Nothing is reported before this (the start, or the unit coming back on). */
  private notBefore: number;
  // What the unit walks, as fields of its own: no options object kept beside them (as GpsDevice).
  private readonly cfg: FirmwareConfig;
  private readonly trajectory: Trajectory;
  private readonly beaconPhaseMs: number;
  private readonly events: HomeUnitOptions['events'];
  private readonly faultAt: number;

  constructor(o: HomeUnitOptions) {
    super(o.deviceId, o.battery, Math.round(o.start + o.firstRecordDelayMs) - o.cfg.heartbeatMs);
    this.cfg = o.cfg;
    this.trajectory = o.trajectory;
    this.beaconPhaseMs = o.beaconPhaseMs;
    this.events = o.events;
    this.faultAt = o.faultAt;
    this.periods = new Periods(o.curfews, localDay(o.start) - 1);
    while (this.periods.nextOpen() < o.start) this.periods.pop();
    this.notBefore = Math.round(o.start + o.firstRecordDelayMs); // the status at boot comes with the first heartbeat, spread
    this.home = o.trajectory.atHome(o.start);
    this.since = o.start - o.cfg.rfAbsentAfterMs;
    this.lookAt = o.trajectory.nextHomeChangeAfter(o.start);
  }

  /** When the unit would report the wearer's current whereabouts (Infinity: nothing to report). */
  private reportAt(): number {
    if (this.home === this.reportedHome) return Infinity;
    const { rfBeaconMs, rfAbsentAfterMs } = this.cfg;
    const phase = this.beaconPhaseMs;
    const t = this.home
      ? this.since + mod(phase - this.since, rfBeaconMs) // the first beacon heard again
      : this.since - mod(this.since - phase, rfBeaconMs) + rfAbsentAfterMs; // 60 s after the last one heard
    return Math.max(t, this.notBefore);
  }

  protected prepare(): void {
    while (this.peeked === undefined && Number.isNaN(this.peekedAt)) {
      if (this.battery.dead) {
        const t = this.battery.nextAt(); // mains back
        if (t >= this.faultAt) break;
        this.peek(this.draft(t, this.battery.apply()));
        this.revive(t);
        break;
      }
      const tb = this.battery.nextAt();
      const report = this.reportAt();
      // A report is due only if the wearer has not turned back before it.
      const tr = report < this.lookAt ? report : Infinity;
      const tl = report < this.lookAt ? Infinity : this.lookAt;
      const tc = this.periods.nextOpen();
      let te = Infinity;
      let ev: HomeUnitOptions['events'][number] | undefined;
      for (const e of this.events) {
        if (e.stream.at < te) {
          te = e.stream.at;
          ev = e;
        }
      }
      const th = this.lastAt + this.cfg.heartbeatMs;
      const t = Math.min(tb, tr, tl, tc, te, th);
      if (t >= this.faultAt) break;
      if (t === tb) {
        const event = this.battery.apply();
        if (event !== undefined) this.peek(this.draft(t, event));
      } else if (t === tl) {
        this.look(t);
      } else if (t === tr) {
        this.reportedHome = this.home;
        this.peek(this.draft(t, this.home ? 'rf_present' : 'rf_absent'));
      } else if (t === tc) {
        this.periods.pop();
        this.peek(this.draft(t, 'curfew_start'));
      } else if (t === te && ev !== undefined) {
        ev.stream.advance();
        this.peek(this.draft(t, ev.event));
      } else {
        this.peek(this.draft(t));
      }
    }
    if (this.peeked === undefined && Number.isNaN(this.peekedAt)) this.peekedAt = Infinity; // silent for good
  }

  /** The wearer's whereabouts at t (a time they may have changed). */
  private look(t: number): void {
    const home = this.trajectory.atHome(t);
    if (home !== this.home) {
      this.home = home;
      this.since = t;
    }
    this.lookAt = this.trajectory.nextHomeChangeAfter(t);
  }

  /** Mains back after the backup battery died: the unit reports afresh from t. */
  private revive(t: number): void {
    this.notBefore = t;
    while (this.periods.nextOpen() < t) this.periods.pop();
    for (const e of this.events) e.stream.restartFrom(t);
    this.look(t);
  }
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
