/** The short summary printed at the end of a run. */
import type { RunResult } from './run-result.ts';

export function summaryText(r: RunResult, runDir: string): string {
  const l = r.ledger;
  const lines = [
    `${r.verdict}  ${r.scenario.name}  seed ${r.scenario.seed}  ${r.scenario.devices} devices  speed ${r.scenario.speed}`,
    `alarms: ${l.expected} expected, ${l.onTime} on time, ${l.late} late, ${l.dropped} dropped, ${l.duplicates} duplicate, ${l.spurious} spurious`,
  ];
  for (const [kind, s] of Object.entries(r.latencyMs)) {
    if (s.count > 0) lines.push(`latency ${kind}: p50 ${(s.p50 / 1000).toFixed(1)} s, p99 ${(s.p99 / 1000).toFixed(1)} s, max ${(s.max / 1000).toFixed(1)} s (SLA ${s.slaMs / 1000} s, virtual)`);
  }
  lines.push(`positions: ${r.completeness.recordsStored} of ${r.completeness.recordsMade} records stored`);
  const failing = r.checks.filter((c) => !c.passed);
  for (const c of failing) {
    lines.push(`FAILED ${c.name}: ${c.summary}`);
    for (const item of c.items.slice(0, 10)) lines.push(`  - ${item}`);
    if (c.items.length > 10) lines.push(`  … and ${c.items.length - 10} more in run.json`);
  }
  lines.push(`report: ${runDir}/run.json, ${runDir}/junit.xml`);
  return lines.join('\n');
}
