/**
 * The fleet a scenario asks for, derived from the seed alone: device ids, wearers (seeded French
 * identities from @faker-js/faker), homes, workplaces and errands around French cities, curfews,
 * zones, BAR pairs — and each device's firmware. Pure: the same plan comes out in a worker process
 * or inside k6. Every device draws from streams keyed by its own id, so a device behaves the same
 * whatever the size of the fleet around it.
 */
import { Faker, fr } from '@faker-js/faker';
import type { ProvisioningInput } from '../../protocol/provisioning.ts';
import { BackupBattery, BRACELET_BATTERY, BraceletBattery } from './battery.ts';
import type { Behaviour } from './behaviour.ts';
import type { FleetMix } from './fleet-mix.ts';
import { Firmware, type FirmwareConfig } from './firmware.ts';
import { CITIES, offset, pointNear, squareRing, type CityName, type LatLon } from './geo.ts';
import { GpsDevice, type DeviceZone } from './gps-device.ts';
import { HomeUnit } from './home-unit.ts';
import { GpsOutages, PoissonEvents } from './incidents.ts';
import { localDay, localInstant, minutesOf, type LocalWindow } from './localtime.ts';
import { Trajectory } from './mobility.ts';
import { nextPoisson, rng, type Rng } from './random.ts';
import { BaseRoutine, PlaceTimeline, packRoutine, type OverrideQueue, type RoutineProfile } from './routine.ts';
import {
  ApproachSchedule, pairSeparationKm, PerpetratorOverrides, PseOverrides, PsemOverrides, VictimOverrides, type PairPlan,
} from './violations.ts';


export interface FleetPlanInput {
  readonly seed: number;
  readonly mix: FleetMix;
  readonly cities: readonly CityName[];
  readonly behaviour: Behaviour;
  /** Virtual start of the run, kept with the plan (the plan itself is the same for any start). */
  readonly start: number;
  /**
   * Plans only the devices this says yes to (default: all). Every device draws from its own
   * streams, so a device comes out the same either way; a k6 VU plans only the devices it drives
   * (scenarios/k6/). A BAR pair is planned whole when either of its two devices is wanted.
   */
  readonly only?: ((deviceId: string) => boolean) | undefined;
}

export interface Wearer {
  readonly firstName: string;
  readonly lastName: string;
  readonly fullName: string;
}

interface PlannedBase {
  readonly deviceId: string;
  readonly wearer: Wearer;
  readonly city: CityName;
  readonly routine: RoutineProfile;
  readonly behaviour: Behaviour;
}

export interface PlannedPse extends PlannedBase {
  readonly type: 'pse';
  readonly curfews: readonly LocalWindow[];
}

export interface PlannedZone {
  readonly zoneId: string;
  readonly kind: 'exclusion' | 'inclusion';
  readonly ring: [number, number][];
  readonly windows?: readonly LocalWindow[];
}

interface PlannedGps extends PlannedBase {
  /** Local minute the wearer plugs the charger in most evenings. */
  readonly plugInMin: number;
}

export interface PlannedPsem extends PlannedGps {
  readonly type: 'psem';
  readonly exclusion: PlannedZone & { readonly centre: LatLon };
  readonly inclusion: PlannedZone;
}

export interface PlannedPair extends PairPlan {
  readonly perpetratorId: string;
  readonly victimId: string;
}

export interface PlannedBarPerpetrator extends PlannedGps {
  readonly type: 'bar_perpetrator';
  readonly pair: PlannedPair;
  /** The victim's routine: he knows where she will be (he draws it from her stream). */
  readonly victimRoutine: RoutineProfile;
}

export interface PlannedBarVictim extends PlannedGps {
  readonly type: 'bar_victim';
  readonly pair: PlannedPair;
}

export type PlannedDevice = PlannedPse | PlannedPsem | PlannedBarPerpetrator | PlannedBarVictim;

/** The part of protocol/provisioning.ts's ProvisioningInput the plan fills in. */
export type FleetProvisioning = Required<Pick<ProvisioningInput, 'devices' | 'zones' | 'curfews' | 'barPairs'>>;

export interface FleetPlan {
  readonly seed: number;
  readonly start: number;
  readonly devices: PlannedDevice[];
  readonly provisioning: FleetProvisioning;
}

export function deviceIdOf(type: 'pse' | 'psem' | 'bar_perpetrator' | 'bar_victim', index: number): string {
  const n = String(index + 1).padStart(5, '0');
  return { pse: `PSE-${n}`, psem: `PSEM-${n}`, bar_perpetrator: `BAR-P-${n}`, bar_victim: `BAR-V-${n}` }[type];
}

export function pairIdOf(index: number): string {
  return `BAR-${String(index + 1).padStart(5, '0')}`;
}

const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7] as const;
const WEEKDAYS = [1, 2, 3, 4, 5] as const;
/** A list of one window, frozen: a plan's devices share it. */
const oneWindow = (from: string, to: string, days: readonly number[] = ALL_DAYS): readonly LocalWindow[] =>
  Object.freeze([Object.freeze({ days: Object.freeze(days), from, to, crossesMidnight: to < from })]);

// The windows a plan picks from, each made once and frozen: the devices that pick one share it
// instead of holding a copy each (118 bytes a PSEM bracelet, bench/model-memory.bench.ts).
const CURFEW_20_07 = oneWindow('20:00', '07:00');
const CURFEW_21_06 = oneWindow('21:00', '06:00');
const CURFEW_20_07_WEEKDAYS = oneWindow('20:00', '07:00', WEEKDAYS);
const NIGHT_22_06 = oneWindow('22:00', '06:00');

/** PSE curfews: typically 20:00 → 07:00 every night, some 21:00 → 06:00, some on weekday nights only. */
function pickCurfews(r: Rng): readonly LocalWindow[] {
  const u = r.next();
  if (u < 0.7) return CURFEW_20_07;
  if (u < 0.9) return CURFEW_21_06;
  return CURFEW_20_07_WEEKDAYS;
}

/** PSEM home inclusion zone: the wearer must be home at night. */
function pickNightWindows(r: Rng): readonly LocalWindow[] {
  const u = r.next();
  if (u < 0.6) return CURFEW_21_06;
  if (u < 0.85) return CURFEW_20_07;
  return NIGHT_22_06;
}

/** BAR alert distance: a whole km 1–10 (DOMAIN.md), mostly 1–5. */
const ALERT_KM_WEIGHTS = [10, 20, 20, 15, 15, 4, 4, 4, 4, 4];

function pickAlertKm(r: Rng): number {
  let u = r.next() * ALERT_KM_WEIGHTS.reduce((a, b) => a + b, 0);
  for (let i = 0; i < ALERT_KM_WEIGHTS.length; i++) {
    u -= ALERT_KM_WEIGHTS[i] as number;
    if (u < 0) return i + 1;
  }
  return ALERT_KM_WEIGHTS.length;
}

interface RoutineShape {
  readonly earliestOutMin: number;
  readonly homeByMin: number;
  readonly workChance: number;
  readonly workKm: readonly [number, number];
  readonly errandKm: readonly [number, number];
  /** Places only within ±halfWidth degrees of this bearing from home (PSEM: away from the exclusion zone). */
  readonly sector?: { readonly bearing: number; readonly halfWidth: number };
}

const ERRAND_PLACES = 4;

function routineFor(r: Rng, home: LatLon, s: RoutineShape): RoutineProfile {
  const bearing = (): number => (s.sector ? s.sector.bearing + r.between(-s.sector.halfWidth, s.sector.halfWidth) : r.between(0, 360));
  const place = (km: readonly [number, number]): LatLon => offset(home, r.between(km[0], km[1]), bearing());
  const works = r.chance(s.workChance);
  const places = Array.from({ length: ERRAND_PLACES }, () => place(s.errandKm));
  return {
    home,
    ...(works ? { work: place(s.workKm) } : {}),
    workDays: WEEKDAYS,
    leaveMin: Math.max(s.earliestOutMin + 10, r.between(7 * 60, 8 * 60 + 45)),
    workEndMin: Math.min(s.homeByMin - 30, r.between(16 * 60 + 30, 18 * 60)),
    earliestOutMin: s.earliestOutMin,
    homeByMin: s.homeByMin,
    places,
    errandsPerDay: r.between(0.8, 2),
  };
}

/** Out after the window closes, back before it opens. */
function aroundWindow(r: Rng, w: LocalWindow): { earliestOutMin: number; homeByMin: number } {
  return { earliestOutMin: minutesOf(w.to) + r.between(10, 45), homeByMin: minutesOf(w.from) - r.between(40, 90) };
}

function identity(faker: Faker, r: Rng, sex: 'male' | 'female'): Wearer {
  faker.seed(r.uint32());
  const firstName = faker.person.firstName(sex);
  const lastName = faker.person.lastName();
  return { firstName, lastName, fullName: `${firstName} ${lastName}` };
}

/** Side of an exclusion zone (a victim's street block), and of the home inclusion zone, metres. */
const EXCLUSION_SIDE_M = 400;
const INCLUSION_SIDE_M = 300;

/** Wearers under EM are mostly men; BAR victims mostly women. */
const MALE_SHARE = 0.95;
/** How far a BAR wearer's daily life goes from home, km (work ≤ 5, errands ≤ 3). */
const BAR_REACH_KM = 5;

export function planFleet(input: FleetPlanInput): FleetPlan {
  const { seed, mix, cities, behaviour } = input;
  const wanted = input.only ?? ((): boolean => true);
  if (cities.length === 0) throw new RangeError('planFleet needs at least one city');
  const faker = new Faker({ locale: [fr] });
  const devices: PlannedDevice[] = [];
  const prov: FleetProvisioning = { devices: [], zones: [], curfews: [], barPairs: [] };
  const cityOf = (i: number): CityName => cities[i % cities.length] as CityName;
  const sexOf = (r: Rng): 'male' | 'female' => (r.chance(MALE_SHARE) ? 'male' : 'female');

  for (let i = 0; i < mix.pse; i++) {
    const deviceId = deviceIdOf('pse', i);
    if (!wanted(deviceId)) continue;
    const r = rng(seed, 'wearer', deviceId);
    const city = cityOf(i);
    const home = pointNear(CITIES[city] as LatLon, 0.5, 8, r);
    const curfews = pickCurfews(r);
    const routine = routineFor(r, home, { ...aroundWindow(r, curfews[0] as LocalWindow), workChance: 0.45, workKm: [2, 12], errandKm: [0.4, 3] });
    devices.push({ deviceId, type: 'pse', wearer: identity(faker, r, sexOf(r)), city, routine, behaviour, curfews });
    prov.devices.push({ deviceId, type: 'pse', home: { lat: home.lat, lon: home.lon } });
    prov.curfews.push({ deviceId, windows: curfews.map(copyWindow) });
  }

  for (let i = 0; i < mix.psem; i++) {
    const deviceId = deviceIdOf('psem', i);
    if (!wanted(deviceId)) continue;
    const r = rng(seed, 'wearer', deviceId);
    const city = cityOf(i);
    const home = pointNear(CITIES[city] as LatLon, 0.5, 8, r);
    const towardsZone = r.between(0, 360);
    const centre = offset(home, r.between(2, 4), towardsZone);
    const nights = pickNightWindows(r);
    // Daily life stays on the far side of home from the exclusion zone: only a planned visit enters it.
    const routine = routineFor(r, home, {
      ...aroundWindow(r, nights[0] as LocalWindow), workChance: 0.45, workKm: [2, 10], errandKm: [0.5, 3], sector: { bearing: towardsZone + 180, halfWidth: 75 },
    });
    const exclusion = { zoneId: `Z-X-${deviceId}`, kind: 'exclusion' as const, ring: squareRing(centre, EXCLUSION_SIDE_M), centre };
    const inclusion = { zoneId: `Z-I-${deviceId}`, kind: 'inclusion' as const, ring: squareRing(home, INCLUSION_SIDE_M), windows: nights };
    devices.push({
      deviceId, type: 'psem', wearer: identity(faker, r, sexOf(r)), city, routine, behaviour, plugInMin: plugIn(r, routine), exclusion, inclusion,
    });
    prov.devices.push({ deviceId, type: 'psem' });
    prov.zones.push(
      { zoneId: exclusion.zoneId, kind: 'exclusion', deviceId, polygon: exclusion.ring },
      { zoneId: inclusion.zoneId, kind: 'inclusion', deviceId, polygon: inclusion.ring, windows: nights.map(copyWindow) },
    );
  }

  for (let i = 0; i < mix.bar; i++) {
    const pairId = pairIdOf(i);
    const perpetratorId = deviceIdOf('bar_perpetrator', i);
    const victimId = deviceIdOf('bar_victim', i);
    if (!wanted(perpetratorId) && !wanted(victimId)) continue;
    const pr = rng(seed, 'pair', pairId);
    const alertKm = pickAlertKm(pr);
    const separationKm = pairSeparationKm(alertKm, BAR_REACH_KM);
    const pair: PlannedPair = { pairId, perpetratorId, victimId, alertKm, separationKm, reachKm: BAR_REACH_KM };
    const city = cityOf(i);
    const victimHome = pointNear(CITIES[city] as LatLon, 0.5, 8, pr);
    const perpetratorHome = offset(victimHome, separationKm, pr.between(0, 360));
    const shape = (r: Rng, workChance: number): RoutineShape => ({
      earliestOutMin: r.between(6 * 60, 7 * 60 + 30), homeByMin: r.between(19 * 60, 22 * 60), workChance, workKm: [1.5, BAR_REACH_KM], errandKm: [0.4, 3],
    });
    const vr = rng(seed, 'wearer', victimId);
    const victimRoutine = routineFor(vr, victimHome, shape(vr, 0.6));
    const victim: PlannedBarVictim = {
      deviceId: victimId, type: 'bar_victim', wearer: identity(faker, vr, 'female'), city, routine: victimRoutine, behaviour, plugInMin: plugIn(vr, victimRoutine), pair,
    };
    const p = rng(seed, 'wearer', perpetratorId);
    const routine = routineFor(p, perpetratorHome, shape(p, 0.4));
    devices.push(
      { deviceId: perpetratorId, type: 'bar_perpetrator', wearer: identity(faker, p, 'male'), city, routine, behaviour, plugInMin: plugIn(p, routine), pair, victimRoutine },
      victim,
    );
    prov.devices.push({ deviceId: perpetratorId, type: 'bar_perpetrator' }, { deviceId: victimId, type: 'bar_victim' });
    prov.barPairs.push({ pairId, perpetratorId, victimId, alertKm });
  }
  return { seed, start: input.start, devices, provisioning: prov };
}

function plugIn(r: Rng, routine: RoutineProfile): number {
  return r.between(Math.max(routine.homeByMin, BRACELET_BATTERY.plugInFromMin), BRACELET_BATTERY.plugInToMin);
}

function copyWindow(w: LocalWindow): { days: number[]; from: string; to: string; crossesMidnight: boolean } {
  return { days: [...w.days], from: w.from, to: w.to, crossesMidnight: w.crossesMidnight };
}

/** The firmware of one planned device, started at virtual time `start`. */
export function createFirmware(d: PlannedDevice, seed: number, start: number, cfg: FirmwareConfig): Firmware {
  const id = d.deviceId;
  const b = d.behaviour;
  const firstDay = localDay(start) - 1;
  const origin = localInstant(firstDay, 0);
  const timing = rng(seed, 'timing', id);
  const faultAt = Math.round(nextPoisson(rng(seed, 'fault', id), start, b.hardwareFaultsPerDay));
  const stream = (name: string, perDay: number): PoissonEvents => new PoissonEvents(rng(seed, name, id), perDay, start);
  // The device keeps its wearer's profile packed, not the plan's objects (routine.ts packRoutine).
  const routine = packRoutine(d.routine);
  const trajectory = (overrides: OverrideQueue | undefined): Trajectory => {
    const base = new BaseRoutine(routine, rng(seed, 'routine', id), firstDay);
    const home = routine.home;
    return new Trajectory(new PlaceTimeline(base, overrides, home), home, origin);
  };
  const violations = rng(seed, 'violations', id);

  if (d.type === 'pse') {
    const overrides = d.curfews.length > 0 ? new PseOverrides(d.curfews, routine, b, violations, firstDay) : undefined;
    return new Firmware(id, cfg, new HomeUnit({
      deviceId: id, cfg, start,
      firstRecordDelayMs: timing.between(0, cfg.heartbeatMs),
      beaconPhaseMs: Math.floor(timing.between(0, cfg.rfBeaconMs)),
      trajectory: trajectory(overrides),
      curfews: d.curfews,
      battery: new BackupBattery({ start, cutsPerDay: b.mainsCutsPerDay }, rng(seed, 'battery', id)),
      events: [
        { event: 'strap_tamper', stream: stream('strap', b.strapTampersPerDay) },
        { event: 'unit_tamper', stream: stream('unit-tamper', b.homeUnitTampersPerDay) },
        { event: 'unit_moved', stream: stream('unit-moved', b.homeUnitMovesPerDay) },
      ],
      faultAt,
    }));
  }

  let overrides: OverrideQueue;
  let zones: DeviceZone[] = [];
  let event: { event: 'strap_tamper' | 'sos'; stream: PoissonEvents };
  if (d.type === 'psem') {
    overrides = new PsemOverrides({ exclusionCentre: d.exclusion.centre, inclusionWindows: d.inclusion.windows ?? [] }, routine, b, violations, firstDay);
    zones = [d.exclusion, d.inclusion];
    event = { event: 'strap_tamper', stream: stream('strap', b.strapTampersPerDay) };
  } else {
    const schedule = new ApproachSchedule(d.pair, b, rng(seed, 'approach', d.pair.pairId), start);
    if (d.type === 'bar_perpetrator') {
      const victimBase = new BaseRoutine(packRoutine(d.victimRoutine), rng(seed, 'routine', d.pair.victimId), firstDay);
      overrides = new PerpetratorOverrides(schedule, d.pair.alertKm, (t) => victimBase.placeBefore(t));
      event = { event: 'strap_tamper', stream: stream('strap', b.strapTampersPerDay) };
    } else {
      overrides = new VictimOverrides(schedule);
      event = { event: 'sos', stream: stream('sos', b.sosPerDay) };
    }
  }
  const unitCfg = d.type === 'psem' ? cfg : { ...cfg, heartbeatMs: cfg.barHeartbeatMs };
  return new Firmware(id, unitCfg, new GpsDevice({
    deviceId: id, cfg: unitCfg, start,
    firstFixDelayMs: timing.between(0, cfg.fixIntervalMs),
    trajectory: trajectory(overrides),
    noise: rng(seed, 'gps', id),
    battery: new BraceletBattery({
      start, drainPerHour: cfg.batteryDrainPerHour, chargePerHour: cfg.batteryChargePerHour, plugInMin: d.plugInMin, forgetPerDay: b.forgetToChargePerDay,
    }, rng(seed, 'battery', id)),
    zones,
    gps: new GpsOutages(rng(seed, 'gps-outage', id), b.gpsLossesPerDay, cfg.gpsLostAfterMs, start),
    event,
    faultAt,
  }));
}
