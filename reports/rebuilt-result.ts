/** run.json of a run rebuilt from its journal by `vigil verify` (verify/rebuild.ts), marked `rebuilt`. */
import type { JournalContents } from '../verify/journal-read.ts';
import type { Rebuilt } from '../verify/rebuild.ts';
import { SCHEMA_VERSION, type RunResult } from './run-result.ts';
import { VIGIL_VERSION } from './version.ts';
import { recordsFromJournal } from './html/record-series.ts';
import { harnessPace } from '../verify/harness-pace.ts';

const iso = (t: number): string => new Date(t).toISOString();

export function rebuiltRunResult(j: JournalContents, r: Rebuilt): RunResult {
  const h = j.header;
  const { ledger, faults, completeness, prepared } = r.judgement;
  // Records per minute and the fleet's lag, as journaled minute by minute: the harness's pace is judged as the run would have.
  const records = recordsFromJournal(j.recordLines);
  const harness = records && harnessPace({ records, speed: h.scenario.speed, failures: r.failures, slaMs: h.slaMs, offlineTimeoutMs: h.offlineTimeoutMs });
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: h.runId,
    vigilVersion: VIGIL_VERSION,
    command: h.command,
    scenario: h.scenario,
    broker: h.broker,
    pipeline: h.pipeline,
    startedAt: h.startedAt,
    // Real time is not journaled past the start: the rebuild's own time, said so in `rebuilt`.
    endedAt: new Date().toISOString(),
    phases: {},
    verdict: r.verdict,
    ledger: ledger.counts,
    perKind: ledger.perKind,
    perDeviceType: ledger.perDeviceType,
    latencyMs: ledger.latencyMs,
    latencyUnderFaultMs: ledger.latencyUnderFaultMs,
    completeness,
    checks: r.checks,
    failures: r.failures,
    lateAllowed: ledger.lateAllowed,
    faults,
    absence: {
      toleranceMs: h.toleranceMs, lateAllowanceMs: h.lateAllowanceMs, devicesWatched: 0,
      episodes: prepared.episodes.length, required: prepared.episodes.filter((e) => e.required).length,
      mass: prepared.mass, spuriousMass: prepared.spuriousMass.map((o) => o.alarm),
    },
    firmware: null,
    network: null,
    fleet: { devices: h.scenario.devices },
    ...(records ? { records } : {}),
    ...(harness ? { harness } : {}),
    feed: { alarms: j.observations.length, malformed: j.feed.malformed, malformedSamples: [...j.feed.malformedSamples] },
    rebuilt: {
      from: iso(r.span.from), to: iso(r.span.to), runEnded: r.span.runEnded, pending: r.pending.length, unmatched: r.unmatched.length,
      omitted: r.omitted, unreadableLines: j.badLines,
    },
  };
}
