/**
 * `vigil verify`: the ledger of a run rebuilt from its journal alone (verify/journal-read.ts), by
 * the same judge() a live run calls — one ledger code path. What differs is only what goes in:
 *
 * - The span: from the timeline's start to where the journal stops. A run that reached its final
 *   read journaled it (`final-read`): then the whole run is judged, as it was live. Otherwise the run
 *   did not finish, and only what could be judged by the journal's last line is:
 *   - an expected alarm not yet observed whose deadline (its SLA, or a fault's allowance after its
 *     heal) had not passed is **pending at the crash** — unknown, neither dropped nor on time;
 *   - an observed alarm whose expectation is not (yet) journaled is **unmatched at the crash**, not
 *     spurious: the oracle names some alarms only at the end of the run (a device silent at the end,
 *     docs/RULES.md), and with fleet workers an expectation may be journaled after its observation.
 *   Such a run never PASSes: the check "the run finished" fails and says where the journal stops.
 * - What the journal does not hold is named (`omitted`), and fails the check "rebuilt from the
 *   journal alone" rather than passing silently: the absence checks of devices a fault touched are
 *   judged live from what the proxies forwarded, which is not journaled; a clock-skewed device's
 *   true trigger times are the fault's (scenarios/runner/device-faults.ts); position completeness
 *   needs the final read.
 */
import { isFleetAlarmKind } from '../protocol/alarms.ts';
import { alarmKey, type Expectation } from '../sim/model/oracle/oracle.ts';
import { judge, type Judgement } from './judge.ts';
import type { JournalContents } from './journal-read.ts';
import type { LedgerEntry, Observation } from './ledger.ts';
import type { FaultWindow } from './network.ts';
import type { Check, Verdict } from './verdict.ts';

export interface RebuiltSpan {
  /** Virtual ms: the timeline's start. */
  readonly from: number;
  /** Virtual ms: the final read of a finished run, else the journal's last timed line. */
  readonly to: number;
  /** True when the run reached its final read: the journal covers all of it. */
  readonly runEnded: boolean;
}

export interface Rebuilt {
  readonly judgement: Judgement;
  readonly span: RebuiltSpan;
  /** Expected alarms not observed whose deadline had not passed when the journal stops. */
  readonly pending: readonly Expectation[];
  /** Observed alarms matching no journaled expectation when the journal stops. */
  readonly unmatched: readonly Observation[];
  /** What the journal cannot rebuild, each a sentence. */
  readonly omitted: readonly string[];
  /** The judgement's checks, with the two of the rebuild; the verdict follows them. */
  readonly checks: readonly Check[];
  readonly failures: readonly LedgerEntry[];
  readonly verdict: Verdict;
}

const iso = (t: number): string => new Date(t).toISOString();
/** Items listed per check: a crash at 15,000 devices can leave thousands pending. */
const LISTED = 50;

function faultWindows(j: JournalContents): FaultWindow[] {
  const h = j.header;
  const healed = new Map<string, number>();
  for (const e of j.faultEvents) if (e.event === 'heal' && !healed.has(e.fault)) healed.set(e.fault, e.at);
  const everyDevice = h.devices.map(([id]) => id);
  return [
    ...h.faults.map((f) => ({ name: f.name, kind: f.kind, from: f.from, until: f.until, devices: f.devices, healAt: new Map(f.healAt) })),
    // A process fault is over every device, healed when the process served again (process-faults.ts windows()).
    ...h.processFaults.map((f) => {
      const at = healed.get(f.name) ?? f.until;
      return { name: f.name, kind: f.kind, from: f.from, until: f.until, devices: everyDevice, healAt: new Map(everyDevice.map((id) => [id, at])) };
    }),
  ];
}

export function rebuildFromJournal(j: JournalContents): Rebuilt {
  const h = j.header;
  const runEnded = j.finalRead !== undefined;
  const span: RebuiltSpan = { from: h.window.start, to: j.finalRead?.at ?? j.lastAt, runEnded };
  const faults = faultWindows(j);
  const omitted: string[] = [];

  // Devices whose communication_loss the live run judged from what the proxies forwarded (a fault
  // touched them; a process fault touches every one), and devices whose clocks a fault skewed.
  const watched = new Set<string>();
  const skewed = new Set<string>();
  for (const f of faults) for (const id of f.devices) (f.kind === 'clock-skew' ? skewed : watched).add(id);
  if (watched.size > 0) omitted.push(`the absence checks: communication_loss of the ${watched.size} devices a fault touched, and mass communication loss, are judged live from what the operator proxies forwarded, which is not journaled`);
  if (skewed.size > 0) omitted.push(`the alarms of the ${skewed.size} devices under a clock-skew fault: their true trigger times are the fault's, not journaled`);
  if (!runEnded) omitted.push('position completeness: the run did not reach its final read');
  const judged = (a: { deviceId: string; kind: string }): boolean =>
    !skewed.has(a.deviceId) && !(watched.has(a.deviceId) && a.kind === 'communication_loss') && !(watched.size > 0 && isFleetAlarmKind(a.kind));
  let expectations = j.expectations.filter(judged);
  let observations = j.observations.filter((o) => judged(o.alarm));

  let pending: Expectation[] = [];
  let unmatched: Observation[] = [];
  if (!runEnded) {
    const observed = new Set(observations.map((o) => alarmKey(o.alarm)));
    const heals = new Map<string, number>();
    for (const f of faults) for (const [id, at] of f.healAt) heals.set(id, Math.max(heals.get(id) ?? -Infinity, at));
    const deadline = (e: Expectation): number => Math.max(e.triggerTime + h.slaMs[e.kind], (heals.get(e.deviceId) ?? -Infinity) + h.lateAllowanceMs);
    pending = expectations.filter((e) => !observed.has(alarmKey(e)) && deadline(e) > span.to);
    const isPending = new Set(pending);
    expectations = expectations.filter((e) => !isPending.has(e));
    const expected = new Set(j.expectations.map((e) => alarmKey(e)));
    unmatched = observations.filter((o) => !isFleetAlarmKind(o.alarm.kind) && !expected.has(alarmKey(o.alarm)));
    const isUnmatched = new Set(unmatched);
    observations = observations.filter((o) => !isUnmatched.has(o));
  }

  const devices = h.devices.map(([id, type, operator]) => ({ id, type, operator }));
  const hil = new Set(h.hil);
  const judgement = judge({
    faults, watched: new Set(), episodes: [], heal: () => undefined,
    operatorOf: new Map(devices.map((d) => [d.id, d.operator])),
    partnerOf: new Map(h.barPairs.flatMap(([p, v]) => [[p, v], [v, p]] as const)),
    expectations, observations, offlineTimeoutMs: h.offlineTimeoutMs, toleranceMs: h.toleranceMs, lateAllowanceMs: h.lateAllowanceMs,
    window: { start: h.window.start, end: j.finalRead?.judgedEnd ?? h.window.end }, finalAt: span.to, mass: h.mass, slaMs: h.slaMs,
    deviceTypes: new Map(devices.map((d) => [d.id, d.type])),
    devices: j.finalRead?.devices ?? [], summary: j.finalRead?.summary ?? { runId: null, devices: {} },
    keep: hil.size > 0 ? (id: string) => hil.has(id) : undefined, feed: j.feed,
  });

  // Not seen by the journal's end, though due: late at least — dropped is for a run that drained.
  const stopped = `had not reached the operator feed when the journal stops (${iso(span.to)})`;
  const failures = runEnded ? judgement.ledger.failures : judgement.ledger.failures.map((f) => (f.status === 'dropped' ? { ...f, detail: f.detail.replace('never reached the operator feed', `${stopped}, past its deadline: late at least`) } : f));
  const named = (items: readonly string[]): string[] => (items.length > LISTED ? [...items.slice(0, LISTED), `… and ${items.length - LISTED} more`] : [...items]);
  const checks: Check[] = [
    ...judgement.checks
      .filter((c) => runEnded || c.name !== 'position history complete')
      .map((c) => (runEnded || c.name !== 'no dropped alarms' ? c : { ...c, items: failures.filter((f) => f.status === 'dropped').map((f) => f.detail) })),
    {
      name: 'the run finished',
      passed: runEnded,
      summary: runEnded
        ? `the run ended at ${iso(span.to)}: the journal covers ${iso(span.from)} → ${iso(span.to)}`
        : `the journal stops at ${iso(span.to)}: the run did not finish (it covers ${iso(span.from)} → ${iso(span.to)} of a timeline to ${iso(h.window.end)}); ${pending.length} expected alarms were pending at the crash (unknown), ${unmatched.length} observed alarms matched no expectation journaled yet`,
      items: runEnded ? [] : named([
        ...pending.map((e) => `pending at the crash: ${e.kind} of ${e.deviceId} (seq ${e.seq}, due ${iso(e.triggerTime)})`),
        ...unmatched.map((o) => `unmatched at the crash: ${o.alarm.kind} of ${o.alarm.deviceId} (seq ${o.alarm.seq}, alarm ${o.alarm.alarmId}) at ${iso(o.receivedAt)}`),
      ]),
    },
    {
      name: 'rebuilt from the journal alone',
      passed: omitted.length === 0,
      summary: omitted.length === 0 ? 'everything the verdict needs was journaled' : `${omitted.length} part${omitted.length === 1 ? '' : 's'} of the verdict cannot be rebuilt from the journal`,
      items: omitted,
    },
  ];
  return { judgement, span, pending, unmatched, omitted, checks, failures, verdict: checks.every((c) => c.passed) ? 'PASS' : 'FAIL' };
}
