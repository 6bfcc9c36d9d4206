/**
 * Provisioning and the admin fault switch through the HTTP handler (no broker needed): a bad body is
 * answered 400 with `{ error: first problem, problems: [every problem] }`, each naming its field.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_FAULT_PATH } from '../protocol/pipeline-admin.ts';
import { PROVISION_PATH, type ProvisioningInput } from '../protocol/provisioning.ts';
import { Engine } from './engine.ts';
import { httpHandler } from './http.ts';
import { Store } from './store.ts';

const TOKEN = 'tok';
const RING: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];

const valid = (): ProvisioningInput => ({
  runId: 'r1',
  clock: { startVirtual: 0, startReal: 0, speed: 1 },
  offlineTimeoutMs: 600_000,
  devices: [
    { deviceId: 'home-1', type: 'pse', home: { lat: 48.85, lon: 2.35 } },
    { deviceId: 'gps-1', type: 'psem' },
    { deviceId: 'perp-1', type: 'bar_perpetrator' },
    { deviceId: 'vict-1', type: 'bar_victim' },
  ],
  zones: [{ zoneId: 'z', kind: 'inclusion', deviceId: 'gps-1', polygon: RING, windows: [{ from: '08:00', to: '18:00' }] }],
  curfews: [{ deviceId: 'home-1', windows: [{ from: '20:00', to: '07:00', crossesMidnight: true }] }],
  barPairs: [{ pairId: 'pair-1', perpetratorId: 'perp-1', victimId: 'vict-1', alertKm: 2 }],
});

let server: http.Server;
let store: Store;
let engine: Engine;
let base: string;
const slowCalls: boolean[] = [];

beforeAll(async () => {
  store = new Store(':memory:');
  engine = new Engine(store, { afterCommit: () => {}, log: () => {} });
  server = http.createServer(httpHandler({
    engine, token: TOKEN, healthy: () => true, log: () => {},
    setSlowConsumer: (active) => {
      slowCalls.push(active);
      return { ok: true, kind: 'slow-consumer', active, changed: true };
    },
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  store.close();
});

async function post(body: unknown, path = PROVISION_PATH, token: string | null = TOKEN, method = 'POST'):
  Promise<{ status: number; body: { error?: string; problems?: string[]; ok?: boolean } }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(new URL(path, base), { method, headers, body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: string; problems?: string[] } };
}

describe('POST provisioning', () => {
  it('accepts every device type, zones with windows, curfews and BAR pairs', async () => {
    expect(await post(valid())).toEqual({ status: 200, body: { ok: true, feedCursor: 0 } });
  });

  it.each<[string, (p: ProvisioningInput) => void, string]>([
    ['alertKm 11', (p) => { p.barPairs![0]!.alertKm = 11; }, 'barPairs.0.alertKm: '],
    ['alertKm 2.5', (p) => { p.barPairs![0]!.alertKm = 2.5; }, 'barPairs.0.alertKm: '],
    ['a curfew window ending before it starts without crossesMidnight',
      (p) => { p.curfews![0]!.windows = [{ from: '20:00', to: '07:00' }]; }, 'curfews.0.windows.0.to: '],
    ['an empty zone polygon', (p) => { p.zones![0]!.polygon = []; }, 'zones.0.polygon: '],
    ['a PSE wearer with no home', (p) => { p.devices[0] = { deviceId: 'home-1', type: 'pse' }; }, 'devices.0.home: '],
    ['a zone on a PSE device', (p) => { p.zones![0]!.deviceId = 'home-1'; }, 'zones.0.deviceId: '],
    ['a zone id used twice for one device', (p) => { p.zones!.push({ ...p.zones![0]!, kind: 'exclusion', windows: undefined }); }, 'zones.1.zoneId: '],
    ['a pair id used twice', (p) => { p.barPairs!.push({ ...p.barPairs![0]! }); }, 'barPairs.1.pairId: '],
  ])('rejects %s with 400 naming the field', async (_name, spoil, field) => {
    const p = valid();
    spoil(p);
    const res = await post(p);
    expect(res.status).toBe(400);
    expect(res.body.error?.startsWith(field), res.body.error).toBe(true);
    expect(res.body.problems?.[0]).toBe(res.body.error);
  });

  it('lists every problem, the first as the error', async () => {
    const p = valid();
    p.barPairs![0]!.alertKm = 0;
    p.curfews![0]!.windows = [{ from: '20:00', to: '07:00' }];
    const res = await post(p);
    expect(res.status).toBe(400);
    expect(res.body.problems?.map((m) => m.slice(0, m.indexOf(':')))).toEqual(['curfews.0.windows.0.to', 'barPairs.0.alertKm']);
    expect(res.body.error).toBe(res.body.problems?.[0]);
  });

  it('a body that is not JSON is a 400 too', async () => {
    expect(await post('{nope')).toEqual({ status: 400, body: { error: 'body: not JSON', problems: ['body: not JSON'] } });
  });
});

describe('POST admin fault (reference pipeline only)', () => {
  const fault = (body: unknown, token: string | null = TOKEN, method = 'POST') => post(body, ADMIN_FAULT_PATH, token, method);

  it('needs the bearer token', async () => {
    expect(await fault({ kind: 'alarm-id-overflow', active: true }, null)).toEqual({ status: 401, body: { error: 'missing or wrong bearer token' } });
    expect((await fault({ kind: 'alarm-id-overflow', active: true }, 'wrong')).status).toBe(401);
    expect(engine.alarmIdOverflowOn).toBe(false);
  });

  it.each<[string, unknown, string[]]>([
    ['an unknown kind', { kind: 'disk-full', active: true }, ['kind: expected one of "alarm-id-overflow", "slow-consumer"']],
    ['no active', { kind: 'alarm-id-overflow' }, ['active: expected true (start the fault) or false (end it)']],
    ['active as a string', { kind: 'alarm-id-overflow', active: 'true' }, ['active: expected true (start the fault) or false (end it)']],
    ['an unknown field', { kind: 'alarm-id-overflow', active: true, until: 5 }, ['until: not a field of a pipeline fault (kind, active)']],
    ['an empty body', {}, ['kind: expected one of "alarm-id-overflow", "slow-consumer"', 'active: expected true (start the fault) or false (end it)']],
    ['an array', [], ['(body): Invalid input: expected object, received array']],
    ['not JSON', '{nope', ['body: not JSON']],
  ])('rejects %s with 400 naming the field', async (_name, body, problems) => {
    expect(await fault(body)).toEqual({ status: 400, body: { error: problems[0], problems } });
    expect(engine.alarmIdOverflowOn).toBe(false);
  });

  it('routes slow-consumer to the ingest, not the engine', async () => {
    expect(await fault({ kind: 'slow-consumer', active: true })).toEqual({ status: 200, body: { ok: true, kind: 'slow-consumer', active: true, changed: true } });
    expect(await fault({ kind: 'slow-consumer', active: false })).toMatchObject({ status: 200 });
    expect(slowCalls).toEqual([true, false]);
    expect(engine.alarmIdOverflowOn).toBe(false);
  });

  it('turns the fault on and off (200, idempotent); other methods are 405', async () => {
    expect(await fault({ kind: 'alarm-id-overflow', active: true })).toEqual({ status: 200, body: { ok: true, kind: 'alarm-id-overflow', active: true, changed: true } });
    expect(engine.alarmIdOverflowOn).toBe(true);
    expect(await fault({ kind: 'alarm-id-overflow', active: true })).toEqual({ status: 200, body: { ok: true, kind: 'alarm-id-overflow', active: true, changed: false } });
    expect(await fault({ kind: 'alarm-id-overflow', active: false })).toEqual({ status: 200, body: { ok: true, kind: 'alarm-id-overflow', active: false, changed: true } });
    expect(engine.alarmIdOverflowOn).toBe(false);
    expect((await fault(undefined, TOKEN, 'GET')).status).toBe(405);
  });
});
