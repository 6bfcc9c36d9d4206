/**
 * The verdict and the checks behind it. Any dropped, spurious, duplicate or late alarm, or an
 * incomplete position history, fails the run (DESIGN.md "The ledger"); a run that expected no alarm
 * at all proves nothing and fails too. Each check becomes one junit testcase.
 */
import type { Completeness } from './completeness.ts';
import { fmtMs, type Ledger } from './ledger.ts';
import type { FaultReport, MassCheck } from './network.ts';
import type { Observation } from './ledger.ts';

/** What the faults add to the verdict: one check per fault window and per absence check. */
export interface NetworkChecks {
  readonly faults: readonly FaultReport[];
  readonly mass: readonly MassCheck[];
  readonly spuriousMass: readonly Observation[];
}

const when = (t: number | undefined): string => (t === undefined || !Number.isFinite(t) ? 'never' : new Date(t).toISOString());

export type Verdict = 'PASS' | 'FAIL';

/** Feed messages the harness could not read (verify/feed-consumer.ts): each may have been an alarm. */
export interface FeedHealth {
  readonly malformed: number;
  /** The first few, each its reason and the start of the message. */
  readonly malformedSamples: readonly string[];
}

export interface Check {
  readonly name: string;
  readonly passed: boolean;
  /** What was measured, for a person. */
  readonly summary: string;
  /** Each failing item, named: device, kind, times. */
  readonly items: readonly string[];
}

export function decide(ledger: Ledger, completeness: Completeness, network?: NetworkChecks, feed?: FeedHealth): { verdict: Verdict; checks: Check[] } {
  const f = ledger.failures;
  const named = (status: string): string[] => f.filter((x) => x.status === status).map((x) => x.detail);
  const c = ledger.counts;
  const checks: Check[] = [
    { name: 'alarms expected', passed: c.expected > 0, summary: `${c.expected} alarms expected`, items: c.expected > 0 ? [] : ['the scenario made no alarm due: it proves nothing'] },
    { name: 'no dropped alarms', passed: c.dropped === 0, summary: `${c.dropped} of ${c.expected} expected alarms never reached the feed`, items: named('dropped') },
    {
      name: 'no late alarms', passed: c.late === 0,
      summary: `${c.late} alarms reached the feed after their SLA${c.lateAllowed > 0 ? ` (and ${c.lateAllowed} late within a fault's allowance, listed in lateAllowed)` : ''}`,
      items: named('late'),
    },
    { name: 'no duplicate alarms', passed: c.duplicates === 0, summary: `${c.duplicates} alarms raised more than once`, items: named('duplicate') },
    { name: 'no spurious alarms', passed: c.spurious === 0, summary: `${c.spurious} alarms raised that nothing called for`, items: named('spurious') },
    {
      name: 'position history complete',
      passed: completeness.recordsMissing === 0,
      summary: `${completeness.recordsStored} of ${completeness.recordsMade} records stored`,
      items: completeness.gaps.map((g) => `${g.deviceId}: ${g.detail}`),
    },
  ];
  // A message the harness cannot read may have been an alarm — a spurious one missed would be a false PASS.
  if (feed) {
    checks.push({
      name: 'operator feed readable', passed: feed.malformed === 0,
      summary: `${feed.malformed} feed messages could not be read (each may have been an alarm)${feed.malformed > feed.malformedSamples.length ? `; the first ${feed.malformedSamples.length} are named` : ''}`,
      items: [...feed.malformedSamples],
    });
  }
  if (network) checks.push(...networkChecks(network, f));
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

function networkChecks(n: NetworkChecks, failures: Ledger['failures']): Check[] {
  const checks: Check[] = [];
  for (const f of n.faults) {
    const a = f.alarms;
    const mine = failures.filter((x) => x.faults?.includes(f.name) && x.status !== 'spurious');
    const abs = f.absence;
    const parts = [
      `${f.devices} devices, ${f.from} → ${f.until} (last healed ${f.healedBy})`,
      a ? `${a.expected} alarms due under it: ${a.onTime} on time, ${a.lateAllowed} late within the allowance, ${a.late} late, ${a.dropped} dropped` : 'no alarm due under it',
      `communication_loss: ${abs.onTime} of ${abs.required} on time${abs.lateAllowed ? `, ${abs.lateAllowed} late within the allowance` : ''}${abs.late ? `, ${abs.late} late` : ''}${abs.missing ? `, ${abs.missing} missing` : ''}`,
      `time to detect (mass alarm): ${f.timeToDetectMs === null ? 'none' : fmtMs(f.timeToDetectMs)}`,
      `backlog drained ${f.drainMs === null ? `never for ${f.notDrained.length} devices` : `${fmtMs(f.drainMs)} after the last heal`}`,
    ];
    checks.push({
      name: `fault ${f.name} (${f.kind})`,
      passed: mine.length === 0 && abs.missing === 0 && abs.late === 0,
      summary: parts.join('; '),
      items: mine.map((x) => x.detail),
    });
  }
  const perDevice = n.faults.reduce((s, f) => ({ required: s.required + f.absence.required, bad: s.bad + f.absence.missing + f.absence.late }), { required: 0, bad: 0 });
  if (n.faults.length > 0) {
    const bad = failures.filter((x) => x.kind === 'communication_loss' && x.faults && x.status !== 'spurious');
    checks.push({
      name: 'absence: communication_loss of every silenced device',
      passed: perDevice.bad === 0 && bad.length === 0,
      summary: `${perDevice.required} devices silenced longer than the offline timeout under a fault; ${perDevice.bad} alarms missing or late`,
      items: bad.map((x) => x.detail),
    });
  }
  n.mass.forEach((m, i) => {
    const ok = (m.status === 'on_time' || m.status === 'optional') && (m.recovery === 'on_time' || m.recovery === 'not_due');
    checks.push({
      name: `absence: mass_communication_loss ${m.operator} #${i + 1}`,
      passed: ok,
      summary: `${m.detail} (loss ${when(m.lossReceivedAt)}, recovery ${when(m.recoveryReceivedAt)})`,
      items: ok ? [] : [m.detail],
    });
  });
  if (n.spuriousMass.length > 0 || n.mass.length > 0 || n.faults.length > 0) {
    checks.push({
      name: 'no spurious mass alarms',
      passed: n.spuriousMass.length === 0,
      summary: `${n.spuriousMass.length} mass alarms raised that no outage called for`,
      items: n.spuriousMass.map((o) => `${o.alarm.kind} of ${o.alarm.deviceId} (seq ${o.alarm.seq}, alarm ${o.alarm.alarmId}) at ${when(o.receivedAt)}: no outage of that operator reached the threshold`),
    });
  }
  return checks;
}
