/**
 * The verdict and the checks behind it. Any dropped, spurious, duplicate or late alarm, or an
 * incomplete position history, fails the run (DESIGN.md "The ledger"); a run that expected no alarm
 * at all proves nothing and fails too. Each check becomes one junit testcase.
 */
import type { Completeness } from './completeness.ts';
import { fmtMs, type Ledger } from './ledger.ts';

export type Verdict = 'PASS' | 'FAIL';

export interface Check {
  readonly name: string;
  readonly passed: boolean;
  /** What was measured, for a person. */
  readonly summary: string;
  /** Each failing item, named: device, kind, times. */
  readonly items: readonly string[];
}

export function decide(ledger: Ledger, completeness: Completeness): { verdict: Verdict; checks: Check[] } {
  const f = ledger.failures;
  const named = (status: string): string[] => f.filter((x) => x.status === status).map((x) => x.detail);
  const c = ledger.counts;
  const checks: Check[] = [
    { name: 'alarms expected', passed: c.expected > 0, summary: `${c.expected} alarms expected`, items: c.expected > 0 ? [] : ['the scenario made no alarm due: it proves nothing'] },
    { name: 'no dropped alarms', passed: c.dropped === 0, summary: `${c.dropped} of ${c.expected} expected alarms never reached the feed`, items: named('dropped') },
    { name: 'no late alarms', passed: c.late === 0, summary: `${c.late} alarms reached the feed after their SLA`, items: named('late') },
    { name: 'no duplicate alarms', passed: c.duplicates === 0, summary: `${c.duplicates} alarms raised more than once`, items: named('duplicate') },
    { name: 'no spurious alarms', passed: c.spurious === 0, summary: `${c.spurious} alarms raised that nothing called for`, items: named('spurious') },
    {
      name: 'position history complete',
      passed: completeness.recordsMissing === 0,
      summary: `${completeness.recordsStored} of ${completeness.recordsMade} records stored`,
      items: completeness.gaps.map((g) => `${g.deviceId}: ${g.detail}`),
    },
  ];
  for (const [kind, l] of Object.entries(ledger.latencyMs)) {
    if (l.count === 0) continue;
    checks.push({
      name: `latency ${kind}`,
      passed: l.max <= l.slaMs,
      summary: `p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}, max ${fmtMs(l.max)} against an SLA of ${fmtMs(l.slaMs)} (${l.count} alarms)`,
      items: l.max <= l.slaMs ? [] : [`slowest ${fmtMs(l.max)} > SLA ${fmtMs(l.slaMs)}`],
    });
  }
  return { verdict: checks.every((ch) => ch.passed) ? 'PASS' : 'FAIL', checks };
}
