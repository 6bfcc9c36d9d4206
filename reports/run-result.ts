/**
 * The result of a run as every reporter sees it, and run.json — its schema-versioned form on disk.
 * Bump SCHEMA_VERSION whenever a field changes meaning or goes away.
 */
import type { Completeness } from '../verify/completeness.ts';
import type { Ledger, LedgerEntry } from '../verify/ledger.ts';
import type { Check, Verdict } from '../verify/verdict.ts';
import type { FaultReport, MassCheck } from '../verify/network.ts';
import type { FeedAlarm } from '../protocol/feed.ts';
import type { RecordMinuteCounts } from '../protocol/record-minutes.ts';
import type { ScenarioFacts } from '../verify/journal-header.ts';
import type { HarnessPace } from '../verify/harness-pace.ts';

/**
 * 3: faults, absence checks, lateAllowed, firmware and the operator network (issue 4). Since then,
 * added without a change of meaning: `hil` and the `hil: true` mark of a real device's entries (issue 5);
 * `records` (records per minute) and `fleet.stored` (issue 6) — a run.json without them still reads;
 * `rebuilt` (a run.json `vigil verify` rebuilt from the journal, issue 8);
 * `isolation` (device isolation, issue 8); `records.lagMs` and `harness` (the harness's pace, issue 7).
 */
export const SCHEMA_VERSION = 3;

/** One real device of the run (scenarios/runner/hil-devices.ts): who it played, where it was, how its link went. */
export interface HilDeviceReport {
  readonly deviceId: string;
  readonly role: string;
  /** gateway: Vigil carried its records to the broker; direct: its own uplink did. */
  readonly mode: string;
  /** The planned wearer whose place it took, when the scenario named one. */
  readonly tookOver?: string;
  readonly pairId?: string;
  readonly victimId?: string | undefined;
  readonly port: { readonly path: string; readonly stablePath?: string };
  readonly identity: { readonly serialNumber: string; readonly model: string; readonly firmwareVersion: string; readonly followsVirtualTime: boolean; readonly protocolVersion: number };
  /** Serial link counters: CRC errors, garbage bytes, oversized and unknown frames, NAKs, retransmits, timeouts, reconnects. */
  readonly link: Readonly<Record<string, number>>;
  /** Records seen, resends deduped, publishes and acks relayed (null until the bridge started). */
  readonly bridge: Readonly<Record<string, number>> | null;
  /** Fixes and events sent, clock sets, failures (null until the timeline started). */
  readonly stimulus: Readonly<Record<string, number>> | null;
  /** The raw, timestamped byte log, in the run directory. */
  readonly byteLog: string;
}

/**
 * Records per virtual minute (sim/record-minutes.ts), minute 0 starting at `from`: sent (published
 * for the first time, by the minute it went out), resent (published again), stored (covered by the
 * pipeline's application ack, by the minute the ack arrived) — of the virtual fleet and of the real
 * devices in gateway mode (a direct device's uplink is its own). Without real devices each array
 * sums to its fleet total: sent ≤ fleet.records (what was made), resent = fleet.resent, stored =
 * fleet.stored; a gateway device adds its bridge's recordsSent, recordsResent and recordsStored.
 */
export type RecordsPerMinute = RecordMinuteCounts<string>;

export interface RunResult {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly runId: string;
  readonly vigilVersion: string;
  /** The command line that reproduces this run. */
  readonly command: string;
  readonly scenario: ScenarioFacts;
  /** Absent for a normal run; 'observe' when the load came from elsewhere (vigil run --observe). */
  readonly mode?: 'observe';
  readonly broker: { readonly kind: 'embedded-aedes' | 'managed-mosquitto' | 'external'; readonly url: string };
  readonly pipeline: { readonly kind: 'reference-child' | 'external'; readonly url: string; readonly server?: string | undefined };
  readonly startedAt: string;
  readonly endedAt: string;
  /** Real seconds each phase took. */
  readonly phases: Readonly<Record<string, number>>;
  readonly verdict: Verdict;
  readonly ledger: Ledger['counts'];
  readonly perKind: Ledger['perKind'];
  readonly perDeviceType: Ledger['perDeviceType'];
  readonly latencyMs: Ledger['latencyMs'];
  readonly latencyUnderFaultMs: Ledger['latencyUnderFaultMs'];
  readonly completeness: Omit<Completeness, 'gaps'> & { readonly gaps: Completeness['gaps'] };
  readonly checks: readonly Check[];
  readonly failures: readonly LedgerEntry[];
  /** Alarms late because their device's link was faulted, within the allowance: each with its delay. */
  readonly lateAllowed: readonly LedgerEntry[];
  /** One entry per fault window: alarms under it, absence checks, time to detect, backlog drain. */
  readonly faults: readonly FaultReport[];
  readonly absence: {
    /** Virtual ms: an absence at its boundary by less is neither required nor spurious. */
    readonly toleranceMs: number;
    /** Virtual ms after a device's link came back within which a late alarm of a fault window is accepted. */
    readonly lateAllowanceMs: number;
    readonly devicesWatched: number;
    readonly episodes: number;
    readonly required: number;
    readonly mass: readonly MassCheck[];
    readonly spuriousMass: readonly FeedAlarm[];
  };
  readonly firmware: unknown;
  readonly network: { readonly operators: unknown; readonly proxies: unknown; readonly events: Readonly<Record<string, number>> } | null;
  readonly fleet: Readonly<Record<string, number>>;
  /** Absent in observe mode (no fleet of Vigil's own) and in runs of a Vigil before issue 6's chart. */
  readonly records?: RecordsPerMinute;
  /**
   * Whether the harness kept its own clock, from `records.lagMs` (verify/harness-pace.ts): the
   * minutes it was behind in, and how many failed alarms those minutes may explain. Absent when
   * `records` has no lag (observe mode, a run.json before it).
   */
  readonly harness?: HarnessPace;
  readonly feed: Readonly<Record<string, number | string[]>>;
  /** Real devices on serial ports; absent when the run had none. */
  readonly hil?: {
    readonly devices: readonly HilDeviceReport[];
    /** Set when a device cannot follow virtual time: the run went at speed 1 instead of this (DESIGN.md "Time"). */
    readonly speedForced?: { readonly from: number; readonly to: 1; readonly devices: readonly string[] };
    /** Every ledger entry of a real device, whatever its outcome (on time too), each marked `hil: true`. */
    readonly ledger: readonly LedgerEntry[];
  };
  /**
   * Set when this run.json was rebuilt from journal.jsonl by `vigil verify` (verify/rebuild.ts),
   * not written by the run: the span the journal covers, and what it could not judge.
   */
  readonly rebuilt?: {
    readonly from: string;
    readonly to: string;
    /** False: the journal stops at `to` — the run did not finish. */
    readonly runEnded: boolean;
    /** Expected alarms not yet observed whose deadline had not passed where the journal stops: unknown. */
    readonly pending: number;
    /** Observed alarms matching no expectation journaled by then: neither expected nor spurious. */
    readonly unmatched: number;
    readonly omitted: readonly string[];
    /** Journal lines that could not be read (a torn last line after a crash). */
    readonly unreadableLines: number;
  };
  /**
   * Device isolation (issue 8): each impersonation attempt (a device publishing as another), the
   * broker's answer, and whether anything was stored for the victim; what the embedded broker
   * refused. Absent when the scenario had no impostors.
   */
  readonly isolation?: {
    readonly attempts: readonly { readonly impostor: string; readonly victim: string; readonly seqs: readonly [number, number]; readonly outcome: string; readonly stored: boolean }[];
    readonly brokerRefused: Readonly<Record<string, number>> | null;
    readonly signal: string;
  };
  /** Observe mode: the clock handed to the load, and what an observer cannot know (docs/SCENARIOS.md). */
  readonly observe?: {
    readonly clock: { readonly startVirtual: number; readonly startReal: number; readonly speed: number };
    readonly leadS: number;
    /** Facts of the devices the observer never sees, reported as unknown rather than guessed. */
    readonly unknown: readonly string[];
    readonly note: string;
  };
}
