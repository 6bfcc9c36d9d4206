/**
 * report.html as one string: a self-contained page (inline CSS, inline SVG, no script, no external
 * URL), readable on screen and printable as acceptance evidence (DESIGN.md "Who uses it").
 */
import type { RunResult } from '../run-result.ts';
import { alarmSeries } from './alarm-series.ts';
import { absenceChart, alarmsChart, latencyChart, pendingChart, recordsChart } from './charts.ts';
import { recordSeries, recordsFromJournal } from './record-series.ts';
import { franceMap } from './france-map.ts';
import type { RunDir } from '../run-dir.ts';
import { harnessCaveat } from '../summary.ts';
import { dataAttrs, esc } from './svg.ts';
import { checksTable, failuresTable, faultsTable, hilTable, lateAllowedTable, perDeviceTypeTable, perKindTable } from './tables.ts';

/** Shared with the live dashboard (reports/dashboard/page.ts), whose charts are these same SVGs. */
export const CSS = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #d5d9e0; --pass: #1f7a3a; --fail: #b3261e; --fault: rgba(179, 38, 30, 0.12);
  --expected: #9aa3b2; --detected: #2f6fd1; --late: #e08a00; --dropped: #b3261e; --allowed: #f2c14e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1000px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 700; margin-right: 8px; }
.verdict.PASS { background: var(--pass); } .verdict.FAIL { background: var(--fail); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; background: #f3f4f7; padding: 1px 4px; border-radius: 3px; }
.notes { background: #fff6e0; border: 1px solid #f2c14e; padding: 8px 12px; border-radius: 4px; }
figure { margin: 12px 0 20px; break-inside: avoid; } figcaption { color: var(--muted); font-size: 12px; }
svg.chart { width: 100%; height: auto; } svg.map { width: 100%; max-width: 560px; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.axis { stroke: var(--ink); } .tick { stroke: var(--ink); } .grid { stroke: var(--line); stroke-dasharray: 2 3; }
.axis-label { fill: var(--muted); }
.fault-window { fill: var(--fault); stroke: rgba(179, 38, 30, 0.4); stroke-dasharray: 4 3; }
rect.expected { fill: var(--expected); } rect.detected { fill: var(--detected); }
polyline.pending { fill: none; stroke: var(--late); stroke-width: 1.5; } circle.point { fill: var(--late); }
polyline.records { fill: none; stroke-width: 1.5; } polyline.sent { stroke: #6b7385; stroke-width: 3; } polyline.stored { stroke: var(--detected); } polyline.resent { stroke: var(--late); stroke-dasharray: 3 2; }
rect.hover { fill: transparent; } .key.sent { background: var(--expected); } .key.stored { background: var(--detected); } .key.resent { background: var(--late); }
.lat.max { fill: #dfe4ec; } .lat.p99 { fill: #b6c4dd; } .lat.p95 { fill: #7d9bd0; } .lat.p50 { fill: var(--detected); }
line.sla { stroke: var(--fail); stroke-width: 2; }
rect.detect { fill: var(--detected); } rect.drain { fill: var(--expected); }
.land { fill: #eef0f4; stroke: #8a93a3; stroke-width: 0.8; }
circle.device { stroke: #fff; stroke-width: 1; } circle.dropped { fill: var(--dropped); } circle.late { fill: var(--late); } circle.late_allowed { fill: var(--allowed); }
.key { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 8px; vertical-align: -1px; }
.key.expected { background: var(--expected); } .key.detected, .key.p50, .key.detect { background: var(--detected); } .key.fault { background: var(--fault); border: 1px dashed var(--fail); }
.key.p95 { background: #7d9bd0; } .key.p99 { background: #b6c4dd; } .key.max { background: #dfe4ec; } .key.sla { background: var(--fail); width: 3px; }
.key.drain { background: var(--expected); } .key.dropped { background: var(--dropped); border-radius: 50%; } .key.late { background: var(--late); border-radius: 50%; } .key.late_allowed { background: var(--allowed); border-radius: 50%; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; } th { background: #f3f4f7; }
tr.fail td:first-child, tr.failure td:nth-child(4) { color: var(--fail); font-weight: 600; } tr.pass td:first-child { color: var(--pass); }
pre.byte-log { font: 11px ui-monospace, Menlo, Consolas, monospace; background: #f6f7f9; padding: 8px; overflow-x: auto; margin: 0; white-space: pre; }
.empty { color: var(--muted); font-style: italic; }
ul.items { margin: 4px 0 0; padding-left: 18px; color: var(--muted); }
@media print { body { max-width: none; padding: 0; font-size: 11px; } h2 { break-after: avoid; } tr, figure, pre { break-inside: avoid; } pre.byte-log { white-space: pre-wrap; } }
`;

function header(run: RunResult): string {
  const s = run.scenario;
  const facts: [string, string][] = [
    ['scenario', `${s.name} — ${s.file}`],
    ['scenario sha256', s.sha256],
    ['seed', String(s.seed)],
    ['speed', `${s.speed}× (virtual seconds per real second)`],
    // `mix` is not in schema 1 (reports/html/older-schema.ts).
    ['devices', `${s.devices}${(s.mix as typeof s.mix | undefined) ? ` (${s.mix.pse} PSE, ${s.mix.psem} PSEM, ${s.mix.bar} BAR pairs)` : ''}`],
    ['virtual time', `${s.start} → ${s.end}`],
    ['ran', `${run.startedAt} → ${run.endedAt}`],
    ['Vigil', run.vigilVersion],
    ['pipeline', `${run.pipeline.kind} at ${run.pipeline.url}${run.pipeline.server ? `, server "${run.pipeline.server}"` : ''}`],
    ['broker', `${run.broker.kind} at ${run.broker.url}`],
    ...(run.mode === 'observe' ? [['mode', `observe: ${run.observe?.note ?? ''}`] as [string, string]] : []),
    ['run id', run.runId],
  ];
  const l = run.ledger;
  return `<header${dataAttrs({ verdict: run.verdict, seed: s.seed, speed: s.speed, sha256: s.sha256 })}>
<h1><span class="verdict ${esc(run.verdict)}" id="verdict">${esc(run.verdict)}</span>${esc(s.name)}</h1>
<p id="ledger-summary"${dataAttrs({ expected: l.expected, 'on-time': l.onTime, late: l.late, 'late-allowed': l.lateAllowed, dropped: l.dropped, duplicates: l.duplicates, spurious: l.spurious })}>${l.expected} alarms expected: ${l.onTime} on time, ${l.lateAllowed} late within a fault's allowance, ${l.late} late, ${l.dropped} dropped, ${l.duplicates} duplicate, ${l.spurious} spurious. Positions: ${run.completeness.recordsStored} of ${run.completeness.recordsMade} records stored.</p>
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}<dt>reproduce</dt><dd><code id="command">${esc(run.command)}</code></dd></dl>
</header>`;
}

function section(title: string, body: string): string {
  return `<section><h2>${esc(title)}</h2>${body}</section>`;
}

/**
 * Records sent vs stored: from run.json, else from the journal's per-minute lines; observe mode has
 * no fleet of its own to count, and says so rather than drawing zeros.
 */
function recordsSection(r: RunDir): string {
  const { run } = r;
  const records = run.records ?? (r.journal && recordsFromJournal(r.journal));
  const missing = run.mode === 'observe'
    ? 'Records sent vs stored: not measured in observe mode (the load came from elsewhere: Vigil had no fleet to count what was sent).'
    : 'Records sent vs stored: not recorded — neither run.json nor the journal has records per minute (a run of a Vigil before this chart).';
  const c = run.completeness;
  const made = run.fleet['records'];
  const context = `${run.hil ? 'Real devices in gateway mode are counted with the virtual fleet (a direct device\'s uplink is its own, unseen). ' : ''}The virtual fleet made ${made ?? 'an unknown number of'} records (run.json fleet.records); at the final read the pipeline held ${c.recordsStored} of the ${c.recordsMade} made${run.hil ? ' (real devices included)' : ''}, ${c.recordsMissing} never stored. An ack covers up to the highest contiguous seq stored, so records stored after a gap count only once the gap is filled.`;
  return recordsChart(records ? recordSeries(records) : undefined, run.faults, missing, context);
}

export function renderReport(r: RunDir): string {
  const { run } = r;
  const rebuilt = run.rebuilt && `Rebuilt from journal.jsonl by vigil verify, not written by the run: ${run.rebuilt.runEnded ? `the run ended at ${run.rebuilt.to}` : `the journal stops at ${run.rebuilt.to}: the run did not finish; ${run.rebuilt.pending} expected alarms were pending at the crash (unknown), ${run.rebuilt.unmatched} observed alarms matched no expectation journaled yet`}.`;
  // A run whose harness fell behind its clock is read differently: said before anything else.
  const caveat = harnessCaveat(run);
  const behind = caveat.length > 0 ? [caveat.map((l) => l.trim()).join(' — ')] : [];
  const notes = [...behind, ...(rebuilt ? [rebuilt] : []), ...r.notes];
  const window = { start: Date.parse(run.scenario.start), end: Date.parse(run.scenario.end) };
  const series = r.journal ? alarmSeries(r.journal, window) : undefined;
  const overTime = (series ? alarmsChart(series, run.faults) + pendingChart(series, run.faults) : '<p class="empty">No journal: no chart of alarms over time.</p>') + recordsSection(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${run.verdict} ${run.scenario.name} — Vigil run ${run.runId}`)}</title>
<style>${CSS}</style></head>
<body>
${header(run)}
${notes.length > 0 ? `<ul class="notes" id="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
${section('Checks', checksTable(run))}
${section('Failures', failuresTable(run))}
${section('Alarms over time', overTime)}
${section('Latency', latencyChart(run))}
${section('Fault windows', faultsTable(run) + absenceChart(run))}
${section('Where', franceMap(run, r.provisioning))}
${section('Per alarm kind', perKindTable(run))}
${section('Per device type', perDeviceTypeTable(run))}
${section('Late within a fault\'s allowance', lateAllowedTable(run))}
${section('Real devices', hilTable(run, r.byteLogs))}
<footer><p class="empty">Vigil ${esc(run.vigilVersion)} · run.json schema ${run.schemaVersion} · regenerate with <code>vigil report ${esc(r.dir)}</code></p></footer>
</body></html>
`;
}
