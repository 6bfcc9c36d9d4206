/**
 * A small run directory for the report's unit tests: a run.json with one fault window, a dropped
 * and a late alarm, a real device; the journal lines behind it; and provisioning with one PSE home
 * and one PSEM zone. Written to a temp dir, as `vigil run` would leave it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_VERSION, type RecordsPerMinute, type RunResult } from '../../reports/run-result.ts';
import type { LedgerCounts } from '../../verify/ledger.ts';
import { tempDir } from './cli.ts';

export const START = Date.parse('2021-10-25T12:00:00.000Z');
const MIN = 60_000;
const at = (minutes: number): number => START + minutes * MIN;
const iso = (minutes: number): string => new Date(at(minutes)).toISOString();

const counts = (c: Partial<LedgerCounts> = {}): LedgerCounts => ({ expected: 0, onTime: 0, late: 0, lateAllowed: 0, dropped: 0, duplicates: 0, spurious: 0, outOfWindow: 0, ...c });

/**
 * Records per minute behind sampleRun(): 5 made and sent a minute for an hour; while the fault cuts
 * (minutes 15–34) 2 a minute are acknowledged instead of 5; after the heal the backlog of 60 goes
 * out again (40 resends) and 55 of it and that minute's 5 are acknowledged in minute 36 — 10 never. Two drain minutes.
 */
export function sampleRecords(): RecordsPerMinute {
  const minutes = Array.from({ length: 62 }, (_, m) => m);
  return {
    from: iso(0), minuteMs: MIN,
    sent: minutes.map((m) => (m < 60 ? 5 : 0)),
    resent: minutes.map((m) => (m === 36 ? 30 : m === 37 ? 10 : 0)),
    stored: minutes.map((m) => (m >= 60 ? 0 : m >= 15 && m < 35 ? 2 : m === 36 ? 55 : 5)),
  };
}

export function sampleRun(): RunResult {
  const dropped = { status: 'dropped' as const, deviceId: 'PSEM-00002', kind: 'exclusion_zone_entry', seq: 12, deviceTime: at(21), triggerTime: at(21), zoneId: 'Z-2', detail: 'exclusion_zone_entry of PSEM-00002 (seq 12, device time 12:21) never reached the operator feed' };
  const late = { status: 'late' as const, deviceId: 'PSE-00001', kind: 'curfew_violation', seq: 30, deviceTime: at(40), triggerTime: at(40), receivedAt: at(47), latencyMs: 7 * MIN, detail: 'curfew_violation of PSE-00001 reached the feed 7 min after its trigger, SLA 4 min' };
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: '20261130-120000-sample-abc123',
    vigilVersion: '0.1.0',
    command: 'npx vigil run sample.scenario.ts --firmware broker-ack',
    scenario: { name: 'sample', file: '/tmp/sample.scenario.ts', sha256: 'ab'.repeat(32), seed: 7, speed: 240, devices: 3, mix: { pse: 1, psem: 2, bar: 0 }, start: iso(0), end: iso(60) },
    broker: { kind: 'embedded-aedes', url: 'mqtt://127.0.0.1:1883' },
    pipeline: { kind: 'reference-child', url: 'http://127.0.0.1:8080', server: 'vigil-reference-pipeline' },
    startedAt: '2026-11-30T12:00:00.000Z',
    endedAt: '2026-11-30T12:00:20.000Z',
    phases: { provision: 1, timeline: 15, drain: 2 },
    verdict: 'FAIL',
    ledger: counts({ expected: 4, onTime: 2, late: 1, dropped: 1 }),
    perKind: {
      exclusion_zone_entry: { ...counts({ expected: 3, onTime: 2, dropped: 1 }), observed: 2 },
      curfew_violation: { ...counts({ expected: 1, late: 1 }), observed: 1 },
    },
    perDeviceType: { psem: { ...counts({ expected: 3, onTime: 2, dropped: 1 }), observed: 2 }, pse: { ...counts({ expected: 1, late: 1 }), observed: 1 } },
    latencyMs: {
      exclusion_zone_entry: { count: 2, p50: 1500, p95: 2500, p99: 2500, max: 2500, slaMs: 240_000 },
      curfew_violation: { count: 1, p50: 420_000, p95: 420_000, p99: 420_000, max: 420_000, slaMs: 240_000 },
    },
    latencyUnderFaultMs: {},
    completeness: { devices: 3, recordsMade: 300, recordsStored: 290, recordsMissing: 10, gaps: [] },
    checks: [
      { name: 'no dropped alarms', passed: false, summary: '1 of 4 expected alarms never reached the feed', items: [dropped.detail] },
      { name: 'no late alarms', passed: false, summary: '1 alarm reached the feed after its SLA', items: [late.detail] },
    ],
    failures: [dropped, late],
    lateAllowed: [],
    faults: [{
      name: 'cut', kind: 'ack-then-lose', from: iso(15), until: iso(35), devices: 2, healedBy: iso(35),
      alarms: { ...counts({ expected: 1, dropped: 1 }), observed: 0 },
      absence: { required: 2, onTime: 2, late: 0, missing: 0, optional: 0 },
      timeToDetectMs: 13 * MIN, drainMs: null, notDrained: ['PSEM-00002'],
    }],
    absence: { toleranceMs: 480_000, lateAllowanceMs: 1_200_000, devicesWatched: 3, episodes: 2, required: 2, mass: [], spuriousMass: [] },
    firmware: { mode: 'broker-ack' },
    network: null,
    fleet: { devices: 3, records: 300, resent: 40, stored: 290 },
    records: sampleRecords(),
    feed: { alarms: 3 },
    hil: {
      devices: [{
        deviceId: 'PSEM-00003', role: 'psem', mode: 'gateway', port: { path: '/dev/pts/7' },
        identity: { serialNumber: 'EMU-0001', model: 'VIGIL-REF', firmwareVersion: '1.0.0', followsVirtualTime: true, protocolVersion: 1 },
        link: { crcErrors: 0, retransmits: 1 }, bridge: null, stimulus: null, byteLog: 'hil-PSEM-00003.log',
      }],
      ledger: [],
    },
  };
}

/** Journal lines behind sampleRun(): four expectations, three first arrivals and one replay of one of them; records per minute. */
export function sampleJournal(): object[] {
  const zone = (deviceId: string, seq: number, trigger: number, zoneId: string): object => ({ deviceId, kind: 'exclusion_zone_entry', seq, deviceTime: at(trigger), triggerTime: at(trigger), zoneId });
  const a = zone('PSEM-00001', 5, 3, 'Z-1');
  const b = zone('PSEM-00001', 9, 10.5, 'Z-1');
  const c = zone('PSEM-00002', 12, 21, 'Z-2');
  const d = { deviceId: 'PSE-00001', kind: 'curfew_violation', seq: 30, deviceTime: at(40), triggerTime: at(40) };
  return [
    { t: 'expectation', at: at(3), ...a },
    { t: 'observation', at: at(3.1), type: 'alarm', alarmId: 'A-1', ...a },
    { t: 'expectation', at: at(10.5), ...b },
    { t: 'observation', at: at(11.2), type: 'alarm', alarmId: 'A-2', ...b },
    { t: 'fault', at: at(15), event: 'start', fault: 'cut', kind: 'ack-then-lose', devices: 2 },
    { t: 'expectation', at: at(21), ...c },
    { t: 'fault', at: at(35), event: 'heal', fault: 'cut', devices: ['PSEM-00001', 'PSEM-00002'] },
    { t: 'expectation', at: at(40), ...d },
    { t: 'observation', at: at(47), type: 'alarm', alarmId: 'A-3', ...d },
    // The feed replayed A-2 after a resume: not a second detection.
    { t: 'observation', at: at(48), type: 'alarm', alarmId: 'A-2', ...b },
    // An alarm nobody expected: not a detection of an expected one.
    { t: 'observation', at: at(50), type: 'alarm', alarmId: 'A-4', deviceId: 'PSEM-00003', kind: 'strap_tamper', seq: 4, deviceTime: at(49.5) },
    ...recordLines(sampleRecords()),
  ];
}

/** The journal's `records` lines of `r`, one per minute, as scenarios/runner/record-journal.ts writes them. */
export function recordLines(r: RecordsPerMinute): object[] {
  return r.sent.map((sent, minute) => ({ t: 'records', at: at(minute + 2), minute, from: at(minute), sent, resent: r.resent[minute], stored: r.stored[minute], ...(r.lagMs ? { lagMs: r.lagMs[minute] } : {}) }));
}

export function sampleProvisioning(): object {
  return {
    runId: '20261130-120000-sample-abc123', clock: { startVirtual: START, startReal: 0, speed: 240 }, offlineTimeoutMs: 600_000,
    devices: [
      { deviceId: 'PSE-00001', type: 'pse', home: { lat: 45.764, lon: 4.8357 } },
      { deviceId: 'PSEM-00001', type: 'psem' },
      { deviceId: 'PSEM-00002', type: 'psem' },
      { deviceId: 'PSEM-00003', type: 'psem' },
    ],
    zones: [{ zoneId: 'Z-2', kind: 'exclusion', deviceId: 'PSEM-00002', polygon: [[2.34, 48.85], [2.36, 48.85], [2.36, 48.87], [2.34, 48.87], [2.34, 48.85]] }],
  };
}

/** The whole run directory; `omit` leaves files out, `byteLogLines` sizes the real device's log. */
export function writeSampleRunDir(opts: { omit?: readonly string[]; byteLogLines?: number } = {}): string {
  const dir = tempDir('vigil-report-');
  const files: Record<string, string> = {
    'run.json': JSON.stringify(sampleRun(), null, 2),
    'journal.jsonl': sampleJournal().map((l) => JSON.stringify(l)).join('\n') + '\n',
    'provisioning.json': JSON.stringify(sampleProvisioning()),
    'hil-PSEM-00003.log': Array.from({ length: opts.byteLogLines ?? 12 }, (_, i) => `2026-11-30T12:00:${String(i).padStart(2, '0')}.000Z > 24 30  |$0 line ${i + 1}|`).join('\n') + '\n',
  };
  for (const [name, text] of Object.entries(files)) if (!opts.omit?.includes(name)) writeFileSync(join(dir, name), text);
  return dir;
}
