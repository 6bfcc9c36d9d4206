/**
 * The first line of journal.jsonl: everything about a run that `judge()` needs besides what the
 * run records as it goes (expectations, observations, fault events), so `vigil verify` can rebuild
 * the ledger from the journal alone after a crash (verify/rebuild.ts). Written synchronously when
 * the journal is opened, before any device connects. No token or secret is ever in it.
 */
import type { AlarmKind } from '../protocol/alarms.ts';

/** Bump when a journal line changes meaning; `vigil verify` refuses other schemas. */
export const JOURNAL_SCHEMA = 1;

/** A planned network or device fault, as the live run hands it to judge() (verify/network.ts FaultWindow). */
export interface JournaledFault {
  readonly name: string;
  readonly kind: string;
  readonly from: number;
  readonly until: number;
  readonly devices: readonly string[];
  /** Device → planned virtual heal time. */
  readonly healAt: readonly (readonly [string, number])[];
}

/** What run.json and the journal's header say of the scenario run (reports/run-result.ts `scenario`). */
export interface ScenarioFacts {
  readonly name: string;
  readonly file: string;
  readonly sha256: string;
  readonly seed: number;
  readonly speed: number;
  readonly devices: number;
  /** Wearers per type (a BAR pair counts once). */
  readonly mix: { readonly pse: number; readonly psem: number; readonly bar: number };
  /** The timeline, ISO. */
  readonly start: string;
  readonly end: string;
}

export interface RunHeader {
  readonly t: 'run';
  /** Virtual ms: the start of the timeline. */
  readonly at: number;
  readonly journalSchema: typeof JOURNAL_SCHEMA;
  readonly runId: string;
  readonly vigilVersion: string;
  readonly command: string;
  /** Real time the run started (ISO). */
  readonly startedAt: string;
  readonly scenario: ScenarioFacts;
  /** Virtual ms of the timeline. */
  readonly window: { readonly start: number; readonly end: number };
  readonly slaMs: Readonly<Record<AlarmKind, number>>;
  readonly offlineTimeoutMs: number;
  /** The allowance the run applies (scenarios/runner/run-output.ts lateAllowance). */
  readonly lateAllowanceMs: number;
  /** scenarios/runner/run-output.ts absenceTolerance. */
  readonly toleranceMs: number;
  readonly mass: { readonly share: number; readonly minDevices: number };
  /** Network and device faults with the devices they hit. */
  readonly faults: readonly JournaledFault[];
  /** Process faults: every device is under them; healed when the journal's `fault` heal line says. */
  readonly processFaults: readonly { readonly name: string; readonly kind: string; readonly from: number; readonly until: number }[];
  /** [deviceId, type, operator] of every device, real ones included. */
  readonly devices: readonly (readonly [string, string, string])[];
  /** [perpetratorId, victimId] of every BAR pair. */
  readonly barPairs: readonly (readonly [string, string])[];
  /** Real devices on serial ports (their every ledger entry is kept). */
  readonly hil: readonly string[];
  readonly broker: { readonly kind: 'embedded-aedes' | 'managed-mosquitto' | 'external'; readonly url: string };
  readonly pipeline: { readonly kind: 'reference-child' | 'external'; readonly url: string };
}
