/**
 * The exported k6 script, run under a stand-in for k6 (k6-standin.ts: a vm context per VU without
 * Intl or TextEncoder, fake k6 modules, a fake clock, a stand-in broker and pipeline), publishes
 * byte for byte what the Node firmwares publish for the same seed and devices, and execution
 * segments split the fleet with every device driven exactly once.
 */
import { describe, expect, it } from 'vitest';
import { encodeBatch, upTopic, type UplinkRecord } from '../../protocol/uplink.ts';
import { virtualClock } from '../../protocol/clock.ts';
import { createFirmware } from '../../sim/model/fleet-plan.ts';
import { deviceConfigForSpeed } from '../../sim/model/defaults.ts';
import { tempDir, vigil, writeScenario } from '../../test/support/cli.ts';
import { loadScenario, type LoadedScenario } from '../load.ts';
import { provisionRun } from '../runner/provision.ts';
import { TICK_MS } from '../k6/device-driver.ts';
import { exportK6Script } from './export.ts';
import { runInStandIn, type Publish, type StandInInstance } from './k6-standin.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z'); // fake wall clock when k6 starts the VUs
const WARM_UP_MS = 5_000; // the timeline starts 5 real seconds later

/**
 * What the Node fleet's firmwares publish when woken on the script's tick grid (Fleet.tick's
 * calls: wake at the first tick at or after nextWakeAt, then the pipeline's ack before the next).
 */
function nodePublishes(loaded: LoadedScenario, startReal: number): Map<string, string[]> {
  const { scenario } = loaded;
  const { plan } = provisionRun(scenario, 'x');
  const end = scenario.start + scenario.duration;
  const clockAt = (real: number): number => virtualClock({ startVirtual: scenario.start, startReal, speed: scenario.speed }, () => real).now();
  const out = new Map<string, string[]>();
  for (const d of plan.devices) {
    const fw = createFirmware(d, scenario.seed, scenario.start, deviceConfigForSpeed(scenario.speed));
    fw.stopRecordingAfter(end);
    const sent: string[] = [];
    for (let k = 1; fw.nextWakeAt() !== Infinity; k++) {
      // Jump to the first tick at or after the next wake (the grid is T0 + k × TICK_MS).
      const due = fw.nextWakeAt();
      k = Math.max(k, Math.floor((startReal + (due - scenario.start) / scenario.speed - T0) / TICK_MS) - 1);
      while (clockAt(T0 + k * TICK_MS) < due) k++;
      for (const batch of fw.wake(clockAt(T0 + k * TICK_MS), true, () => undefined)) {
        sent.push(Buffer.from(encodeBatch(batch)).toString());
        fw.onAck((batch[batch.length - 1] as UplinkRecord).seq);
      }
    }
    out.set(d.deviceId, sent);
  }
  return out;
}

function byDevice(publishes: readonly Publish[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of publishes) {
    expect(p.topic).toBe(upTopic(p.clientId));
    expect(p.qos).toBe(1);
    out.set(p.clientId, [...(out.get(p.clientId) ?? []), Buffer.from(p.payload).toString()]);
  }
  return out;
}

async function exportAndRun(loaded: LoadedScenario, instances: StandInInstance[], vus: number) {
  const { text, config } = await exportK6Script(loaded, { brokerUrl: 'mqtt://127.0.0.1:1883', vus });
  const startReal = T0 + WARM_UP_MS;
  const clock = JSON.stringify({ startVirtual: config.start, startReal, speed: config.speed });
  const limit = WARM_UP_MS + (config.end - config.start) / config.speed + config.drainMs + 60_000;
  const run = await runInStandIn(text, { VIGIL_CLOCK: clock }, instances, T0, limit);
  return { run, config, expected: nodePublishes(loaded, startReal), got: byDevice(run.publishes) };
}

describe('vigil k6 export', () => {
  it('publishes the smoke scenario\'s records byte for byte as the Node firmwares do, without Intl', async () => {
    const loaded = await loadScenario('scenarios/smoke.scenario.ts', { devices: 3 });
    const { run, config, expected, got } = await exportAndRun(loaded, [{ vus: 1 }], 1);
    expect(run.sawIntl).toBe(false);
    expect(config.deviceIds).toEqual(['PSEM-00001', 'PSEM-00002', 'PSEM-00003']);
    expect([...got.keys()].sort()).toEqual(config.deviceIds);
    for (const id of config.deviceIds) {
      expect(got.get(id)?.length, id).toBeGreaterThan(20); // 2 virtual hours of fixes and heartbeats
      expect(got.get(id), id).toEqual(expected.get(id));
    }
  }, 20_000);

  it('splits a mixed fleet over two execution segments: each device driven once, records identical', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'mixed', { name: 'mixed', seed: 7, speed: 120, duration: '1h', fleet: { pse: 3, psem: 2, bar: 1 }, behaviour: { scale: 20 } });
    const loaded = await loadScenario(file);
    // k6 gives each half of the test half of the 4 VUs.
    const { run, config, expected, got } = await exportAndRun(loaded, [{ segment: '0:1/2', vus: 2 }, { segment: '1/2:1', vus: 2 }], 4);
    const [first, second] = run.connected as [string[], string[]];
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    expect(first.filter((id) => second.includes(id))).toEqual([]);
    expect([...first, ...second].sort()).toEqual([...config.deviceIds].sort());
    expect(new Set(config.deviceIds.map((id) => id.split('-')[0]))).toEqual(new Set(['PSE', 'PSEM', 'BAR']));
    for (const id of config.deviceIds) {
      expect(got.get(id)?.length, id).toBeGreaterThan(10);
      expect(got.get(id), id).toEqual(expected.get(id));
    }
    expect(run.publishes.some((p) => Buffer.from(p.payload).toString().includes('"type":"event"'))).toBe(true);
  }, 20_000);

  it('rejects a missing scenario file and --devices 0 with one clear line, exit 2', async () => {
    const [missing, zero] = await Promise.all([
      vigil(['k6', 'export', 'scenarios/nope.scenario.ts', '--out', `${tempDir()}/x.js`]),
      vigil(['k6', 'export', 'scenarios/smoke.scenario.ts', '--devices', '0']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^vigil: scenario file not found: scenarios\/nope\.scenario\.ts — check the path/);
    expect(zero.code).toBe(2);
    expect(zero.stderr.trim()).toMatch(/--devices must be a whole number > 0, got "0"/);
  }, 20_000);
});
