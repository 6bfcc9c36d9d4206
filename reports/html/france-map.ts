/**
 * A map of metropolitan France (no tile server: the page must open offline) with the devices whose
 * alarms were dropped or late, placed where provisioning.json says their wearer lives: a PSE
 * wearer's home, a PSEM wearer's first zone (the places a judge draws around a wearer's life).
 * BAR devices have no fixed place in provisioning and are counted, not placed.
 *
 * The outline is Natural Earth's France from world-atlas (1:50m), projected with d3-geo's conformal
 * conic — the projection of France's own Lambert-93 grid — so the country has its familiar shape.
 */
import { createRequire } from 'node:module';
import { geoConicConformal, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { ringCentre, type Provisioning } from '../../protocol/provisioning.ts';
import type { LedgerEntry } from '../../verify/ledger.ts';
import type { RunResult } from '../run-result.ts';
import { dataAttrs, esc } from './svg.ts';

const WIDTH = 560;
const HEIGHT = 540;
/** ISO 3166 numeric code of France in world-atlas. */
const FRANCE_ID = '250';
/** Mainland and Corsica: the overseas departments share France's feature and would shrink it to a dot. */
const METROPOLE = { west: -6, east: 10, south: 41, north: 52 };

let outline: Feature<MultiPolygon> | undefined;

/** Metropolitan France, read once per process (the 50m atlas is 750 kB of JSON). */
function metropolitanFrance(): Feature<MultiPolygon> {
  if (outline) return outline;
  const world = createRequire(import.meta.url)('world-atlas/countries-50m.json') as Topology<{ countries: GeometryCollection }>;
  const geometry = world.objects.countries.geometries.find((g) => g.id === FRANCE_ID);
  if (!geometry) throw new Error('world-atlas has no France (id 250)');
  const france = feature(world, geometry) as Feature<MultiPolygon | Polygon>;
  const polygons = france.geometry.type === 'Polygon' ? [france.geometry.coordinates] : france.geometry.coordinates;
  const inside = polygons.filter((p) => {
    const [lon, lat] = p[0]?.[0] ?? [NaN, NaN];
    return lon! >= METROPOLE.west && lon! <= METROPOLE.east && lat! >= METROPOLE.south && lat! <= METROPOLE.north;
  });
  outline = { type: 'Feature', properties: {}, geometry: { type: 'MultiPolygon', coordinates: inside } };
  return outline;
}

/** Where each device's wearer lives, as provisioning.json tells it. */
export function wearerPlaces(p: Provisioning): Map<string, { lat: number; lon: number; from: 'home' | 'zone' }> {
  const places = new Map<string, { lat: number; lon: number; from: 'home' | 'zone' }>();
  for (const d of p.devices) if (d.type === 'pse' && d.home) places.set(d.deviceId, { ...d.home, from: 'home' });
  for (const z of p.zones) {
    if (places.has(z.deviceId)) continue;
    // The mean of its corners, not d3's geoCentroid: d3 reads a ring by its winding (a
    // counter-clockwise GeoJSON ring is the whole globe but the zone), and a zone is a few km wide.
    places.set(z.deviceId, { ...ringCentre(z.polygon), from: 'zone' });
  }
  return places;
}

/** Per device, its worst outcome among the alarms shown: dropped over late over late-within-allowance. */
function affectedDevices(run: RunResult): Map<string, { status: string; alarms: number }> {
  const rank = ['late_allowed', 'late', 'dropped'];
  const byDevice = new Map<string, { status: string; alarms: number }>();
  const entries: LedgerEntry[] = [...run.failures, ...run.lateAllowed].filter((e) => rank.includes(e.status));
  for (const e of entries) {
    const seen = byDevice.get(e.deviceId);
    const status = seen && rank.indexOf(seen.status) > rank.indexOf(e.status) ? seen.status : e.status;
    byDevice.set(e.deviceId, { status, alarms: (seen?.alarms ?? 0) + 1 });
  }
  return byDevice;
}

export function franceMap(run: RunResult, provisioning: Provisioning | undefined): string {
  const france = metropolitanFrance();
  const projection = geoConicConformal().parallels([44, 49]).rotate([-3, 0]).fitSize([WIDTH, HEIGHT], france);
  const path = geoPath(projection);
  const affected = affectedDevices(run);
  const places = provisioning ? wearerPlaces(provisioning) : new Map<string, { lat: number; lon: number; from: string }>();
  const dots: string[] = [];
  const unplaced: string[] = [];
  for (const [deviceId, a] of affected) {
    const place = places.get(deviceId);
    const xy = place && projection([place.lon, place.lat]);
    if (!place || !xy) {
      unplaced.push(deviceId);
      continue;
    }
    dots.push(`<circle class="device ${esc(a.status)}"${dataAttrs({ 'device-id': deviceId, status: a.status, alarms: a.alarms, lat: place.lat, lon: place.lon, place: place.from })} cx="${xy[0].toFixed(1)}" cy="${xy[1].toFixed(1)}" r="4"><title>${esc(`${deviceId}: ${a.alarms} alarm${a.alarms === 1 ? '' : 's'} ${a.status.replace('_', ' ')} (${place.from})`)}</title></circle>`);
  }
  const svg = `<svg id="map-france" class="map" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="devices with alarms dropped or late, on a map of France" xmlns="http://www.w3.org/2000/svg"${dataAttrs({ affected: affected.size, placed: dots.length })}><path class="land" d="${path(france) ?? ''}"/>${dots.join('')}</svg>`;
  const notes = [
    affected.size === 0 ? 'No device had an alarm dropped or late.' : `${affected.size} device${affected.size === 1 ? '' : 's'} with alarms dropped or late, ${dots.length} placed.`,
    provisioning ? '' : 'provisioning.json is missing or unreadable: only the outline is drawn.',
    unplaced.length > 0 && provisioning ? `Not placed (no home or zone in provisioning): ${unplaced.slice(0, 20).map(esc).join(', ')}${unplaced.length > 20 ? ` and ${unplaced.length - 20} more` : ''}.` : '',
  ].filter((n) => n !== '');
  return `<figure class="map-figure"><h3>Devices affected</h3>${svg}<figcaption><span class="key dropped"></span> dropped <span class="key late"></span> late <span class="key late_allowed"></span> late within a fault's allowance. Placed at the PSE wearer's home or the PSEM wearer's first zone. ${notes.join(' ')}</figcaption></figure>`;
}
