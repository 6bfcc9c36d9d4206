/**
 * The fleet the pipeline benches feed the reference pipeline: provisioning and records, shared by
 * bench/pipeline-ingest.bench.ts (over MQTT) and bench/pipeline-store.bench.ts (the engine and its
 * store, in process), so both measure the same work.
 *
 * fleet `psem`: every device a GPS bracelet with one exclusion zone, a fix a virtual second.
 * fleet `mixed`: every rule at work — 60 % PSE with a 20:00 → 07:00 curfew (wearers going out and
 * back), 25 % PSEM with an exclusion zone and a windowed inclusion zone, 15 % BAR units in pairs;
 * records a virtual minute apart, so curfews and windows open and close during the run.
 */
import type { ProvisioningInput } from '../protocol/provisioning.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';

type Kind = 'pse' | 'psem' | 'bar_perpetrator' | 'bar_victim';

export interface BenchFleet {
  readonly ids: readonly string[];
  readonly prov: ProvisioningInput;
  /** Record `s` (1-based seq) of device `i`. */
  readonly record: (i: number, s: number) => UplinkRecord;
}

const ZONE: [number, number][] = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]];

/** `now`: virtual start (ms); `speed`: the run's clock speed; `startReal`: real ms at `now` (default `now`). */
export function benchFleet(devices: number, mixed: boolean, now: number, speed: number, startReal = now): BenchFleet {
  const ids = Array.from({ length: devices }, (_, i) => `b${i}`);
  const kindOf = (i: number): Kind => {
    if (!mixed) return 'psem';
    const k = i % 20;
    if (k < 12) return 'pse';
    if (k === 17 && i + 1 < devices) return 'bar_perpetrator';
    if (k === 18) return 'bar_victim'; // paired with the perpetrator just before it
    return 'psem';
  };
  const kinds = ids.map((_, i) => kindOf(i));
  const prov: ProvisioningInput = {
    runId: `bench-${now}`, clock: { startVirtual: now, startReal, speed }, offlineTimeoutMs: 3_600_000 * speed,
    devices: ids.map((deviceId, i) => (kinds[i] === 'pse' ? { deviceId, type: 'pse', home: { lat: 48.05, lon: 2.05 } } : { deviceId, type: kinds[i]! })),
    zones: ids.flatMap((deviceId, i) => (kinds[i] !== 'psem' ? [] : [
      { zoneId: 'x', kind: 'exclusion' as const, deviceId, polygon: ZONE },
      ...(mixed ? [{ zoneId: 'in', kind: 'inclusion' as const, deviceId, polygon: ZONE, windows: [{ from: '08:00', to: '18:00' }] }] : []),
    ])),
    curfews: ids.flatMap((deviceId, i) => (kinds[i] === 'pse' ? [{ deviceId, windows: [{ from: '20:00', to: '07:00', crossesMidnight: true }] }] : [])),
    barPairs: ids.flatMap((perpetratorId, i) => (kinds[i] === 'bar_perpetrator' ? [{ pairId: `pair-${i}`, perpetratorId, victimId: ids[i + 1]!, alertKm: 2 }] : [])),
  };
  const record = (i: number, s: number): UplinkRecord => {
    const device = ids[i]!;
    if (!mixed) return { device, seq: s, time: now + s * 1000, battery: 70, type: 'position', accuracy: 5, lat: 48 + (s % 7) * 0.02, lon: 2.05 };
    const time = now + s * 60_000;
    const battery = 100 - (s % 90);
    if (kinds[i] === 'pse') {
      if (s % 40 === (i % 40)) return { device, seq: s, time, battery, type: 'event', event: 'rf_absent' };
      if (s % 40 === ((i + 7) % 40)) return { device, seq: s, time, battery, type: 'event', event: 'rf_present' };
      return { device, seq: s, time, battery, type: 'heartbeat' };
    }
    return { device, seq: s, time, battery, type: 'position', accuracy: 5, lat: 48 + ((s + i) % 7) * 0.02, lon: 2.05 + ((s * i) % 5) * 0.01 };
  };
  return { ids, prov, record };
}
