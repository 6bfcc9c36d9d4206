/**
 * The fleet a scenario asks for, derived from the seed alone: device ids, wearers (seeded French
 * identities from @faker-js/faker), homes around French cities, exclusion zones, and each device's
 * mobility and firmware. Pure: the same plan comes out in a worker process or inside k6.
 */
import { Faker, fr } from '@faker-js/faker';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { point, polygon } from '@turf/helpers';
import { CITIES, pointNear, squareRing, type CityName, type LatLon } from './geo.ts';
import { rng } from './random.ts';
import { Trajectory, type MobilityProfile } from './mobility.ts';
import { Firmware, type FirmwareConfig } from './firmware.ts';
import { TIME } from './defaults.ts';

export interface FleetPlanInput {
  readonly seed: number;
  readonly psem: number;
  readonly cities: readonly CityName[];
  /** Expected zone violations per wearer per day (DOMAIN.md background rate ~1.25). */
  readonly violationsPerWearerPerDay: number;
}

export interface PlannedDevice {
  readonly index: number;
  readonly deviceId: string;
  readonly type: 'psem';
  readonly wearer: { readonly name: string };
  readonly city: CityName;
  readonly home: LatLon;
  readonly zone: { readonly zoneId: string; readonly ring: [number, number][] };
  readonly profile: MobilityProfile;
}

/** Mean stay at a place; with ~10 min legs it makes ~26 trips a day. */
const MEAN_STAY_MS = 45 * TIME.MINUTE;
const MEAN_TRIP_MS = MEAN_STAY_MS + 5 * TIME.MINUTE + 10 * TIME.MINUTE;
/** Side of an exclusion zone (a victim's street block), metres. */
const ZONE_SIDE_M = 400;

export function deviceIdOf(type: 'psem', index: number): string {
  return `${type.toUpperCase()}-${String(index + 1).padStart(5, '0')}`;
}

export function planFleet(input: FleetPlanInput): PlannedDevice[] {
  const tripsPerDay = TIME.HOUR * 24 / MEAN_TRIP_MS;
  const zoneVisitChance = Math.min(1, input.violationsPerWearerPerDay / tripsPerDay);
  const faker = new Faker({ locale: [fr] });
  const out: PlannedDevice[] = [];
  for (let i = 0; i < input.psem; i++) {
    const r = rng(input.seed, 'wearer', i);
    const city = input.cities[i % input.cities.length] as CityName;
    const home = pointNear(CITIES[city] as LatLon, 0.5, 8, r);
    const zoneCentre = pointNear(home, 1.5, 4, r);
    faker.seed(r.uint32());
    const deviceId = deviceIdOf('psem', i);
    out.push({
      index: i,
      deviceId,
      type: 'psem',
      wearer: { name: faker.person.fullName() },
      city,
      home,
      zone: { zoneId: `Z-${deviceId}`, ring: squareRing(zoneCentre, ZONE_SIDE_M) },
      profile: { home, zoneCentre, errandRadiusKm: 3, zoneVisitChance, meanStayMs: MEAN_STAY_MS },
    });
  }
  return out;
}

/** The firmware of one planned device, started at virtual time `start`. */
export function createFirmware(d: PlannedDevice, seed: number, start: number, cfg: FirmwareConfig): Firmware {
  const r = rng(seed, 'device', d.index);
  const trajectory = new Trajectory(d.profile, rng(seed, 'mobility', d.index), start);
  const zone = polygon([d.zone.ring]);
  // The device knows its zones only to report faster inside them (DOMAIN.md cadence); alarms are
  // the pipeline's to raise.
  const violates = (p: LatLon): boolean => booleanPointInPolygon(point([p.lon, p.lat]), zone);
  return new Firmware(d.deviceId, cfg, trajectory, violates, rng(seed, 'gps', d.index), start, r.between(0, cfg.fixIntervalMs), r.between(40, 100));
}
