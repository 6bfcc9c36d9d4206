/**
 * A GPS device as a record source: the PSEM bracelet, the BAR perpetrator's bracelet and the BAR
 * victim's unit. It reports
 * - position fixes at DOMAIN.md's cadence: 60 s moving, hourly at rest (after 10 min still, woken
 *   by motion), 15 s while it sees itself violating a rule it knows of (inside an exclusion zone,
 *   outside an inclusion zone during its window; it also wakes when such a window opens). BAR
 *   units know no rule: distances are judged centrally. No fix while GPS is lost;
 * - events at once: strap_tamper (bracelets), sos (victim unit), gps_lost / gps_restored,
 *   charger_connected / charger_disconnected;
 * - a heartbeat after 180 s without a record;
 * - nothing while its battery is empty (until charged) or after a hardware fault.
 */
import { PeekingSource } from './peeking-source.ts';
import type { Battery } from './battery.ts';
import type { FirmwareConfig, RecordDraft } from './firmware.ts';
import { insideFlatRing, round6, withNoise, type LatLon } from './geo.ts';
import type { GpsOutages, PoissonEvents } from './incidents.ts';
import { localDay, Periods, type LocalWindow } from './localtime.ts';
import type { Trajectory } from './mobility.ts';
import type { Rng } from './random.ts';

/** A zone as the device knows it, to report faster while it violates it. */
export interface DeviceZone {
  readonly kind: 'exclusion' | 'inclusion';
  /** Closed GeoJSON ring, [lon, lat]. */
  readonly ring: readonly (readonly [number, number])[];
  readonly windows?: readonly LocalWindow[];
}

/** Where a zone's shape keeps its bounding box; the ring's corners follow. */
const [WEST, SOUTH, EAST, NORTH, BOX] = [0, 1, 2, 3, 4];

/**
 * A zone as the device holds it for its checks. A fleet holds two per PSEM bracelet, so its shape
 * is one array of doubles: the bounding box (west, south, east, north), which rejects most fixes
 * at once, then the ring's corners flat, for geo.ts's point-in-polygon. Measured offline
 * (bench/model-memory.bench.ts): ~520 bytes per zone less than a turf Polygon over the plan's
 * [lon, lat] tuples and four boxed numbers.
 */
class KnownZone {
  private readonly exclusion: boolean;
  private readonly shape: number[];
  private readonly periods: Periods | undefined;

  constructor(zone: DeviceZone, start: number) {
    this.exclusion = zone.kind === 'exclusion';
    // Sized once, then filled: an array grown by push keeps V8's slack (docs/PERFORMANCE.md).
    const shape = new Array<number>(BOX + 2 * zone.ring.length);
    shape[WEST] = shape[SOUTH] = Infinity;
    shape[EAST] = shape[NORTH] = -Infinity;
    zone.ring.forEach(([lon, lat], i) => {
      shape[WEST] = Math.min(shape[WEST] as number, lon);
      shape[EAST] = Math.max(shape[EAST] as number, lon);
      shape[SOUTH] = Math.min(shape[SOUTH] as number, lat);
      shape[NORTH] = Math.max(shape[NORTH] as number, lat);
      shape[BOX + 2 * i] = lon;
      shape[BOX + 2 * i + 1] = lat;
    });
    this.shape = shape;
    this.periods = zone.windows ? new Periods(zone.windows, localDay(start) - 1) : undefined;
  }

  private inside(p: LatLon): boolean {
    const s = this.shape;
    if (p.lon < (s[WEST] as number) || p.lon > (s[EAST] as number) || p.lat < (s[SOUTH] as number) || p.lat > (s[NORTH] as number)) return false;
    return insideFlatRing(s, BOX, p.lon, p.lat);
  }

  /** Whether the zone's rule applies at t (times asked never go back). */
  private applies(t: number): boolean {
    if (this.periods === undefined) return true;
    return this.periods.skipClosed(t) <= t;
  }

  violatedBy(p: LatLon, t: number): boolean {
    if (this.exclusion) return this.inside(p);
    return this.applies(t) && !this.inside(p);
  }

  /** The next window opening after t (the device takes a fix then). */
  nextOpenAfter(t: number): number {
    if (this.periods === undefined) return Infinity;
    const open = this.periods.skipClosed(t);
    return open > t ? open : Infinity;
  }
}

export interface GpsDeviceOptions {
  readonly deviceId: string;
  readonly cfg: FirmwareConfig;
  readonly start: number;
  /** Offset of the first fix, so the fleet's reports are spread over the interval. */
  readonly firstFixDelayMs: number;
  readonly trajectory: Trajectory;
  readonly noise: Rng;
  readonly battery: Battery;
  readonly zones: readonly DeviceZone[];
  readonly gps: GpsOutages;
  /** strap_tamper (bracelets) or sos (victim unit): one kind per device, or none. */
  readonly event: { readonly event: 'strap_tamper' | 'sos'; readonly stream: PoissonEvents } | undefined;
  /** Hardware fault: silent from then on. */
  readonly faultAt: number;
}

export class GpsDevice extends PeekingSource<Battery> {
  private nextFixAt: number;
  private readonly zones: KnownZone[];
  // What the device walks, as fields of its own: no options object kept beside it (~110 bytes a
  // device, bench/model-memory.bench.ts), and not the plan's zones, only its KnownZones.
  private readonly cfg: FirmwareConfig;
  private readonly trajectory: Trajectory;
  private readonly noise: Rng;
  private readonly gps: GpsOutages;
  // Its one kind of event as two fields, not a list of one {event, stream} (92 bytes a device, measured).
  private readonly eventName: 'strap_tamper' | 'sos';
  private readonly eventStream: PoissonEvents | undefined;
  private readonly faultAt: number;

  constructor(o: GpsDeviceOptions) {
    const firstFixAt = Math.round(o.start + o.firstFixDelayMs);
    super(o.deviceId, o.battery, firstFixAt - o.cfg.heartbeatMs);
    this.nextFixAt = firstFixAt;
    this.zones = o.zones.map((z) => new KnownZone(z, o.start));
    this.cfg = o.cfg;
    this.trajectory = o.trajectory;
    this.noise = o.noise;
    this.gps = o.gps;
    this.eventName = o.event?.event ?? 'strap_tamper';
    this.eventStream = o.event?.stream;
    this.faultAt = o.faultAt;
  }

  /** Walks the device's timelines in time order to its next record. */
  protected prepare(): void {
    while (this.peeked === undefined && Number.isNaN(this.peekedAt)) {
      if (this.battery.dead) {
        const t = this.battery.nextAt(); // charged again
        if (t >= this.faultAt) break;
        this.battery.apply();
        this.revive(t);
        this.peek(this.draft(t, 'charger_connected'));
        break;
      }
      const tb = this.battery.nextAt();
      const tg = this.gps.nextEventAt();
      const ev = this.eventStream;
      const te = ev === undefined ? Infinity : ev.at;
      const tf = this.nextFixAt;
      const th = this.lastAt + this.cfg.heartbeatMs;
      const t = Math.min(tb, tg, te, tf, th);
      if (t >= this.faultAt) break;
      if (t === tb) {
        const event = this.battery.apply();
        if (event !== undefined) this.peek(this.draft(t, event));
      } else if (t === tg) {
        this.peek(this.draft(t, this.gps.take()));
      } else if (t === te && ev !== undefined) {
        ev.advance();
        this.peek(this.draft(t, this.eventName));
      } else if (t === tf) {
        if (this.gps.noFix(t)) this.nextFixAt = this.gps.end;
        else this.fix(t);
      } else {
        this.peek(this.draft(t));
      }
    }
    if (this.peeked === undefined && Number.isNaN(this.peekedAt)) this.peekedAt = Infinity; // silent for good
  }

  /** Back on after an empty battery: what was due meanwhile went unseen. */
  private revive(t: number): void {
    this.nextFixAt = t;
    this.gps.restartFrom(t);
    this.eventStream?.restartFrom(t);
  }

  private fix(t: number): void {
    const truth = this.trajectory.positionAt(t);
    const p = withNoise(truth, this.noise);
    this.peek({
      device: this.sourceId, seq: 0, time: t, battery: this.battery.percentAt(t), type: 'position',
      lat: round6(p.lat), lon: round6(p.lon), accuracy: 5,
    } as RecordDraft);
    this.nextFixAt = t + this.fixInterval(t, truth);
  }

  /** DOMAIN.md cadence: 15 s while violating, 60 s moving, hourly at rest (woken early by motion or a window opening). */
  private fixInterval(t: number, truth: LatLon): number {
    const c = this.cfg;
    if (this.zones.some((z) => z.violatedBy(truth, t))) return c.violationFixIntervalMs;
    const traj = this.trajectory;
    if (t - traj.stillSince(t) < c.restAfterMs) return c.fixIntervalMs;
    let wake = traj.nextMoveAt(t);
    for (const z of this.zones) wake = Math.min(wake, z.nextOpenAfter(t));
    return Math.max(c.fixIntervalMs, Math.min(c.restFixIntervalMs, wake - t));
  }
}
