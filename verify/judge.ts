/**
 * From what a run recorded to its verdict, in one pure step: the faults' changes to what is judged
 * (network.ts), the ledger alarm by alarm (ledger.ts), each fault window's report, position
 * completeness and the checks. A live run and a journal replayed after a crash call the same thing.
 */
import type { IngestSummary } from '../protocol/provisioning.ts';
import { checkCompleteness, type Completeness, type DeviceRecordState } from './completeness.ts';
import { buildLedger, type Ledger } from './ledger.ts';
import { faultReports, prepareNetwork, type FaultReport, type NetworkInput, type Prepared } from './network.ts';
import { decide, type Check, type FeedHealth, type Verdict } from './verdict.ts';

export interface JudgeInput extends NetworkInput {
  /** Device id → device type, for the per-type counts. */
  readonly deviceTypes: ReadonlyMap<string, string>;
  /** What each device made, got acknowledged and still holds. */
  readonly devices: readonly DeviceRecordState[];
  /** The pipeline's ingest summary at the final read. */
  readonly summary: IngestSummary;
  /** Devices whose every ledger entry is kept (a run's real devices: verify/ledger.ts `keep`). */
  readonly keep?: (deviceId: string) => boolean;
  /** The feed consumer's malformed messages: a check of their own. */
  readonly feed?: FeedHealth;
}

export interface Judgement {
  readonly prepared: Prepared;
  readonly ledger: Ledger;
  readonly faults: readonly FaultReport[];
  readonly completeness: Completeness;
  readonly verdict: Verdict;
  readonly checks: readonly Check[];
}

export function judge(i: JudgeInput): Judgement {
  const prepared = prepareNetwork(i);
  const ledger = buildLedger({
    expectations: prepared.expectations, observations: prepared.observations, optional: prepared.optional, excuse: prepared.excuse,
    window: i.window, slaMs: i.slaMs, offlineTimeoutMs: i.offlineTimeoutMs, deviceTypes: i.deviceTypes, keep: i.keep,
  });
  const faults = faultReports(i, prepared, ledger);
  const completeness = checkCompleteness(i.devices, i.summary);
  const { verdict, checks } = decide(ledger, completeness, { faults, mass: prepared.mass, spuriousMass: prepared.spuriousMass }, i.feed);
  return { prepared, ledger, faults, completeness, verdict, checks };
}
