/** `vigil compare` in the terminal: both runs side by side, a delta per row, and what makes B worse. */
import { fmtDelta, fmtValue, type Comparison } from './compare.ts';
import type { ComparedRun } from './run-dir.ts';

/** Who a run is, in one line: id, verdict, when, how fast, against what. */
export function runLine(r: ComparedRun): string {
  return `${r.runId}  ${r.verdict}  started ${r.startedAt}  speed ${r.scenario.speed}  pipeline ${r.pipeline.server ?? r.pipeline.kind}`;
}

/** The closing verdict of a comparison, shared by the terminal and the HTML. */
export function comparisonVerdict(c: Comparison): string {
  return c.worse.length === 0 ? 'B is within the thresholds of A' : `B is worse than A: ${c.worse.length} threshold${c.worse.length === 1 ? '' : 's'} crossed`;
}

export function compareText(c: Comparison): string {
  const s = c.a.scenario;
  const lines = [
    `${s.name}  seed ${s.seed}  ${s.devices} devices  ${s.start} -> ${s.end}`,
    `A  ${runLine(c.a)}`,
    `B  ${runLine(c.b)}`,
    ...c.differences.map((d) => `differs: ${d}`),
  ];
  const labelWidth = Math.max(...c.sections.flatMap((sec) => sec.rows.map((r) => r.label.length + 2)), 10);
  const cell = (v: string, width = 14): string => v.padStart(width);
  // The delta holds a time and its percentage: "-2 min 20 s (-70%)".
  const delta = (v: string): string => cell(v, 22);
  lines.push('', `${''.padEnd(labelWidth)}${cell('A')}${cell('B')}${delta('B - A')}`);
  for (const sec of c.sections) {
    lines.push(sec.title);
    for (const r of sec.rows) {
      lines.push(`  ${r.label.padEnd(labelWidth - 2)}${cell(fmtValue(r, r.a))}${cell(fmtValue(r, r.b))}${delta(fmtDelta(r))}${r.worse ? `   WORSE: ${r.worse}` : ''}`);
    }
  }
  lines.push('', comparisonVerdict(c));
  for (const w of c.worse) lines.push(`  - ${w}`);
  return lines.join('\n');
}
