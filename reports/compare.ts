/**
 * `vigil compare <runA> <runB>` (issue 6, item 5): a run (B, say a rehearsal of a network change)
 * against its baseline (A), side by side, with deltas, and whether B is worse than the thresholds.
 * Pure: two run.json in, a comparison out; compare-text.ts and compare-html.ts render it.
 *
 * Only runs of the same scenario (file hash), seed and fleet are compared: with the seed, the
 * devices make the same records and the oracle expects the same alarms (DESIGN.md "Scale":
 * determinism is the oracle), so a difference is the pipeline's or the network's, not the load's.
 */
import { VigilError } from '../protocol/errors.ts';
import type { ComparedRun } from './run-dir.ts';

/** When B counts as worse than A; `vigil compare --help` and docs/REPORTS.md give the defaults. */
export interface Thresholds {
  /** Per alarm kind, outside fault windows: B's p99 may exceed A's by at most this percentage… */
  readonly maxP99IncreasePct: number;
  /** Dropped alarms, and communication_loss missed under a fault: at most this many more in B. */
  readonly maxNewDrops: number;
  /** Alarms late beyond any fault's allowance: at most this many more. */
  readonly maxNewLate: number;
  readonly maxNewSpurious: number;
  /** Records the devices made and the pipeline never stored: at most this many more. */
  readonly maxNewMissingRecords: number;
  /** Per fault: time to detect the outage (mass alarm) may grow by at most this percentage… */
  readonly maxDetectIncreasePct: number;
  /** …and the backlog drain after the last heal by at most this one. */
  readonly maxDrainIncreasePct: number;
  /**
   * …unless the increase is at most this many virtual ms. At speed 180 a 20 ms scheduling hiccup is
   * 3.6 virtual seconds: a percentage of a small time would fail two runs of the same code.
   */
  readonly slackMs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  maxP99IncreasePct: 20,
  maxNewDrops: 0,
  maxNewLate: 0,
  maxNewSpurious: 0,
  maxNewMissingRecords: 0,
  maxDetectIncreasePct: 20,
  maxDrainIncreasePct: 20,
  slackMs: 10_000,
};

/** One measure of both runs. `null`: the run has none (no latency sample), or never (never detected, never drained). */
export interface CompareRow {
  readonly label: string;
  readonly a: number | null;
  readonly b: number | null;
  readonly unit: 'count' | 'ms';
  /** What `null` means here, for a person. */
  readonly none: 'never' | '-';
  /** Set when this row makes B worse than the thresholds: why, and which flag sets the limit. */
  readonly worse?: string;
}

export interface CompareSection {
  readonly title: string;
  readonly rows: readonly CompareRow[];
}

export interface Comparison {
  readonly a: ComparedRun;
  readonly b: ComparedRun;
  /** Settings that differ between the runs yet do not stop the comparison (speed, firmware, pipeline…). */
  readonly differences: readonly string[];
  readonly sections: readonly CompareSection[];
  /** Every reason B is worse; empty when it is within the thresholds. */
  readonly worse: readonly string[];
}

/** Throws VIGIL_RUNS_NOT_COMPARABLE, naming every difference, when A and B did not run the same load. */
export function checkComparable(a: ComparedRun, b: ComparedRun): void {
  const diffs: string[] = [];
  const differ = (what: string, x: unknown, y: unknown): void => void (x !== y && diffs.push(`${what} ${String(x)} vs ${String(y)}`));
  differ('scenario', a.scenario.name, b.scenario.name);
  if (a.scenario.name === b.scenario.name && a.scenario.sha256 !== b.scenario.sha256) diffs.push(`scenario file changed (sha256 ${a.scenario.sha256.slice(0, 12)}… vs ${b.scenario.sha256.slice(0, 12)}…)`);
  differ('seed', a.scenario.seed, b.scenario.seed);
  differ('devices', a.scenario.devices, b.scenario.devices);
  differ('start', a.scenario.start, b.scenario.start);
  differ('end', a.scenario.end, b.scenario.end);
  if (diffs.length > 0) {
    throw new VigilError('VIGIL_RUNS_NOT_COMPARABLE', `not compared: ${a.runId} and ${b.runId} did not run the same load (${diffs.join('; ')}), so their alarms and latencies say nothing about each other`,
      'compare a run with a baseline of the same scenario file, --seed and --devices (the command line in each run.json reproduces it)');
  }
}

export function compareRuns(a: ComparedRun, b: ComparedRun, t: Thresholds = DEFAULT_THRESHOLDS): Comparison {
  checkComparable(a, b);
  const sections = [alarmSection(a, b, t), latencySection(a, b, t), underFaultSection(a, b), ...faultSections(a, b, t), harnessSection(a, b)].filter((s) => s.rows.length > 0);
  const worse = [
    ...(a.verdict === 'PASS' && b.verdict === 'FAIL' ? ['verdict: A PASSed, B FAILed'] : []),
    ...sections.flatMap((s) => s.rows.filter((r) => r.worse !== undefined).map((r) => `${s.title}: ${r.label}: ${r.worse}`)),
  ];
  return { a, b, differences: differences(a, b), sections, worse };
}

function differences(a: ComparedRun, b: ComparedRun): string[] {
  const out: string[] = [];
  const note = (what: string, x: unknown, y: unknown): void => {
    const [sx, sy] = [JSON.stringify(x), JSON.stringify(y)];
    if (sx !== sy) out.push(`${what}: ${sx} vs ${sy}`);
  };
  note('speed', a.scenario.speed, b.scenario.speed);
  note('firmware', a.firmware, b.firmware);
  note('broker', a.broker.kind, b.broker.kind);
  note('pipeline', a.pipeline.server ?? a.pipeline.kind, b.pipeline.server ?? b.pipeline.kind);
  note('mode', a.mode ?? 'run', b.mode ?? 'run');
  note('vigil', a.vigilVersion, b.vigilVersion);
  // A harness that fell behind delays the records of the run it drives: what differs may be its doing.
  const behind = (r: ComparedRun): number => r.harness?.behindMinutes ?? 0;
  if (behind(a) > 0 || behind(b) > 0) {
    out.push(`harness behind its clock: ${behind(a)} vs ${behind(b)} minutes — a difference in those minutes may be the harness's, not the pipeline's: compare runs at a speed where both harnesses kept their clock`);
  }
  return out;
}

/** The harness's own pace, both runs: shown, not judged (it is the measuring instrument, not the system under test). */
function harnessSection(a: ComparedRun, b: ComparedRun): CompareSection {
  if (!a.harness && !b.harness) return { title: 'harness', rows: [] };
  return {
    title: 'harness (shown, not judged)',
    rows: [
      { label: 'minutes behind its clock', a: a.harness?.behindMinutes ?? null, b: b.harness?.behindMinutes ?? null, unit: 'count', none: '-' },
      { label: 'worst wake lag (real)', a: a.harness?.lagMaxMs ?? null, b: b.harness?.lagMaxMs ?? null, unit: 'ms', none: '-' },
    ],
  };
}

/** A count that must not grow by more than `max` (null: no limit, shown only). */
function countRow(label: string, a: number, b: number, max: number | null, flag: string): CompareRow {
  const grew = b - a;
  return { label, a, b, unit: 'count', none: '-', ...(max !== null && grew > max ? { worse: `${grew} more in B (at most ${max}: ${flag})` } : {}) };
}

/**
 * A time that must not grow past `maxPct` and the slack (null: no limit). A time A had and B never
 * reached (never detected, never drained) is always worse.
 */
function timeRow(label: string, a: number | null, b: number | null, none: CompareRow['none'], limit: { pct: number; slackMs: number; flag: string } | null): CompareRow {
  const row = { label, a, b, unit: 'ms', none } as const;
  if (limit === null || a === null) return row;
  if (b === null) return { ...row, worse: `${none} in B, ${fmtDuration(a)} in A` };
  const grew = b - a;
  if (grew > (a * limit.pct) / 100 && grew > limit.slackMs) {
    return { ...row, worse: `+${fmtDuration(grew)} (+${a > 0 ? Math.round((grew / a) * 100) : '∞'}%; at most +${limit.pct}% or +${fmtDuration(limit.slackMs)}: ${limit.flag})` };
  }
  return row;
}

function alarmSection(a: ComparedRun, b: ComparedRun, t: Thresholds): CompareSection {
  const [x, y] = [a.ledger, b.ledger];
  return {
    title: 'alarms',
    rows: [
      countRow('expected', x.expected, y.expected, null, ''),
      countRow('on time', x.onTime, y.onTime, null, ''),
      countRow('late within a fault\'s allowance', x.lateAllowed, y.lateAllowed, null, ''),
      countRow('late', x.late, y.late, t.maxNewLate, '--max-new-late'),
      countRow('dropped', x.dropped, y.dropped, t.maxNewDrops, '--max-new-drops'),
      countRow('duplicates', x.duplicates, y.duplicates, null, ''),
      countRow('spurious', x.spurious, y.spurious, t.maxNewSpurious, '--max-new-spurious'),
      countRow('records never stored', a.completeness.recordsMissing, b.completeness.recordsMissing, t.maxNewMissingRecords, '--max-new-missing-records'),
    ],
  };
}

/** Kinds either run has a latency sample of, in a stable order. */
function kindsOf(a: Readonly<Record<string, { count: number }>>, b: Readonly<Record<string, { count: number }>>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => (a[k]?.count ?? 0) > 0 || (b[k]?.count ?? 0) > 0).sort();
}

function latencySection(a: ComparedRun, b: ComparedRun, t: Thresholds): CompareSection {
  const p99 = { pct: t.maxP99IncreasePct, slackMs: t.slackMs, flag: '--max-p99-increase' };
  const at = (r: ComparedRun, kind: string, q: 'p50' | 'p99'): number | null => {
    const s = r.latencyMs[kind];
    return s && s.count > 0 ? s[q] : null;
  };
  return {
    title: `latency, virtual${a.faults.length > 0 ? ', outside fault windows' : ''}`,
    rows: kindsOf(a.latencyMs, b.latencyMs).flatMap((k) => {
      const bP99 = at(b, k, 'p99');
      return [
        timeRow(`${k} p50`, at(a, k, 'p50'), at(b, k, 'p50'), '-', null),
        // A kind B has no sample of is no latency to judge: its dropped alarms are counted above.
        timeRow(`${k} p99`, at(a, k, 'p99'), bP99, '-', bP99 === null ? null : p99),
      ];
    }),
  };
}

/** Under faults, alarms wait for the link to come back: shown, not judged (late within the allowance is not worse). */
function underFaultSection(a: ComparedRun, b: ComparedRun): CompareSection {
  const at = (r: ComparedRun, kind: string): number | null => {
    const s = r.latencyUnderFaultMs[kind];
    return s && s.count > 0 ? s.p99 : null;
  };
  return {
    title: 'latency under faults, virtual (shown, not judged)',
    rows: kindsOf(a.latencyUnderFaultMs, b.latencyUnderFaultMs).map((k) => timeRow(`${k} p99`, at(a, k), at(b, k), '-', null)),
  };
}

/** Per fault window, matched by name (the same scenario file has the same faults). */
function faultSections(a: ComparedRun, b: ComparedRun, t: Thresholds): CompareSection[] {
  return a.faults.flatMap((fa) => {
    const fb = b.faults.find((f) => f.name === fa.name);
    if (fb === undefined) return [];
    return {
      title: `fault ${fa.name} (${fa.kind})`,
      rows: [
        timeRow('time to detect (mass alarm)', fa.timeToDetectMs, fb.timeToDetectMs, 'never', { pct: t.maxDetectIncreasePct, slackMs: t.slackMs, flag: '--max-detect-increase' }),
        timeRow('backlog drained after the last heal', fa.drainMs, fb.drainMs, 'never', { pct: t.maxDrainIncreasePct, slackMs: t.slackMs, flag: '--max-drain-increase' }),
        countRow('communication_loss required', fa.absence.required, fb.absence.required, null, ''),
        countRow('communication_loss missing', fa.absence.missing, fb.absence.missing, t.maxNewDrops, '--max-new-drops'),
      ],
    };
  });
}

/** Virtual time for a person: tenths of a second under two minutes (latencies), minutes and seconds above. */
export function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (Math.abs(s) < 120) return `${s.toFixed(1)} s`;
  const whole = Math.round(Math.abs(s));
  return `${ms < 0 ? '-' : ''}${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** B − A, signed, with the percentage for a time A had. */
export function fmtDelta(r: CompareRow): string {
  if (r.a === null || r.b === null) return '';
  const d = r.b - r.a;
  if (r.unit === 'count') return d > 0 ? `+${d}` : String(d);
  const sign = d > 0 ? '+' : d < 0 ? '-' : '';
  const pct = r.a > 0 ? ` (${d >= 0 ? '+' : ''}${Math.round((d / r.a) * 100)}%)` : '';
  return `${sign}${fmtDuration(Math.abs(d))}${pct}`;
}

/** A row's value in A or B for a person. */
export function fmtValue(r: CompareRow, v: number | null): string {
  if (v === null) return r.none;
  return r.unit === 'count' ? String(v) : fmtDuration(v);
}
