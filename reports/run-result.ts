/**
 * The result of a run as every reporter sees it, and run.json — its schema-versioned form on disk.
 * Bump SCHEMA_VERSION whenever a field changes meaning or goes away.
 */
import type { Completeness } from '../verify/completeness.ts';
import type { Ledger, LedgerEntry } from '../verify/ledger.ts';
import type { Check, Verdict } from '../verify/verdict.ts';

export const SCHEMA_VERSION = 2;

export interface RunResult {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly runId: string;
  readonly vigilVersion: string;
  /** The command line that reproduces this run. */
  readonly command: string;
  readonly scenario: {
    readonly name: string;
    readonly file: string;
    readonly sha256: string;
    readonly seed: number;
    readonly speed: number;
    readonly devices: number;
    /** Wearers per type (a BAR pair counts once). */
    readonly mix: { readonly pse: number; readonly psem: number; readonly bar: number };
    readonly start: string;
    readonly end: string;
  };
  readonly broker: { readonly kind: 'embedded-aedes' | 'external'; readonly url: string };
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
  readonly completeness: Omit<Completeness, 'gaps'> & { readonly gaps: Completeness['gaps'] };
  readonly checks: readonly Check[];
  readonly failures: readonly LedgerEntry[];
  readonly fleet: Readonly<Record<string, number>>;
  readonly feed: Readonly<Record<string, number | string[]>>;
}
