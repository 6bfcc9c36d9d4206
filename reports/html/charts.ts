/**
 * The charts of report.html, as server-side SVG (why: reports/html/svg.ts). Each mark carries its
 * numbers as data-* attributes; each chart says in its caption what it counts.
 */
import { fmtMs, type LatencySummary } from '../../verify/ledger.ts';
import type { RunResult } from '../run-result.ts';
import type { AlarmSeries } from './alarm-series.ts';
import type { RecordSeries } from './record-series.ts';
import { TIME_FRAME as F, clockTime, dataAttrs, esc, faultShading, linear, svgOpen, timeAxis, valueAxis, type FaultWindow, type Frame } from './svg.ts';

const iso = (t: number): string => new Date(t).toISOString();

function figure(title: string, svg: string, caption: string): string {
  return `<figure><h3>${esc(title)}</h3>${svg}<figcaption>${caption}</figcaption></figure>`;
}

/** x over the series' span, y from 0 to max, shading and axes: what the time charts share. */
function timeFrame(series: { readonly from: number; readonly until: number }, faults: readonly FaultWindow[], max: number, yLabel: string) {
  const x = linear(series.from, series.until, F.left, F.width - F.right);
  const y = linear(0, max, F.height - F.bottom, F.top);
  const under = faultShading(faults, x, series.from, series.until, F) + valueAxis(y, max, F, yLabel) + timeAxis(x, series.from, series.until, F);
  return { x, y, under };
}

const binLabel = (series: AlarmSeries): string => (series.binMs === 60_000 ? 'per minute' : `per ${series.binMs / 60_000} minutes`);

export function alarmsChart(series: AlarmSeries, faults: readonly FaultWindow[]): string {
  const max = Math.max(1, ...series.bins.map((b) => Math.max(b.expected, b.detected)));
  const { x, y, under } = timeFrame(series, faults, max, 'alarms');
  const w = Math.max(1, (x(series.from + series.binMs) - x(series.from)) / 2);
  const bars = series.bins
    .filter((b) => b.expected > 0 || b.detected > 0)
    .map((b) => {
      const x0 = x(b.from);
      const bar = (cls: string, v: number, dx: number): string => `<rect class="${cls}" x="${(x0 + dx).toFixed(1)}" y="${y(v).toFixed(1)}" width="${w.toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}"/>`;
      return `<g class="bin"${dataAttrs({ from: iso(b.from), expected: b.expected, detected: b.detected })}><title>${clockTime(b.from)}: ${b.expected} expected, ${b.detected} detected</title>${bar('expected', b.expected, 0)}${bar('detected', b.detected, w)}</g>`;
    })
    .join('');
  const svg = `${svgOpen('chart-alarms', F, 'alarms expected and detected over virtual time', { 'bin-ms': series.binMs, 'total-expected': series.expected, 'total-detected': series.detected })}${under}${bars}</svg>`;
  return figure(`Alarms expected vs detected, ${binLabel(series)}`, svg,
    `<span class="key expected"></span> expected (by trigger time) <span class="key detected"></span> detected (first arrival at the feed) <span class="key fault"></span> fault window. ${series.expected} alarms expected, ${series.detected} of them detected. communication_loss alarms judged from the network are in the absence chart, not here.`);
}

export function pendingChart(series: AlarmSeries, faults: readonly FaultWindow[]): string {
  const max = Math.max(1, ...series.bins.map((b) => b.pending));
  const { x, y, under } = timeFrame(series, faults, max, 'pending alarms');
  const points = series.bins.map((b) => `${x(b.from + series.binMs).toFixed(1)},${y(b.pending).toFixed(1)}`);
  const path = `<polyline class="pending" points="${x(series.from).toFixed(1)},${y(0).toFixed(1)} ${points.join(' ')}"/>`;
  const marks = series.bins.map((b) => `<circle class="point"${dataAttrs({ until: iso(b.from + series.binMs), pending: b.pending })} cx="${x(b.from + series.binMs).toFixed(1)}" cy="${y(b.pending).toFixed(1)}" r="1.5"/>`).join('');
  const last = series.bins.at(-1)?.pending ?? 0;
  const svg = `${svgOpen('chart-pending', F, 'pending alarms over virtual time', { 'bin-ms': series.binMs, 'final-pending': last })}${under}${path}${marks}</svg>`;
  return figure('Pending alarms', svg, `Alarms triggered and not yet at the feed, at the end of each ${series.binMs / 60_000}-minute bin. ${last} still pending at the end: never detected.`);
}

/**
 * Records sent vs stored per virtual minute: under a fault the stored line drops while sent goes on,
 * and the backlog shows as a stored (and resent) spike after the heal. `series` undefined: `missing`
 * says why there is no chart. `context`: a sentence the caption adds (how the totals relate to run.json).
 */
export function recordsChart(series: RecordSeries | undefined, faults: readonly FaultWindow[], missing: string, context = ''): string {
  const title = 'Records sent vs stored, per minute';
  if (!series) return figure(title, '', esc(missing));
  const max = Math.max(1, ...series.minutes.map((m) => Math.max(m.sent, m.resent, m.stored)));
  const { x, y, under } = timeFrame(series, faults, max, 'records per minute');
  const mid = (m: { from: number }): string => x(m.from + series.minuteMs / 2).toFixed(1);
  const line = (cls: 'sent' | 'resent' | 'stored'): string => `<polyline class="records ${cls}" points="${series.minutes.map((m) => `${mid(m)},${y(m[cls]).toFixed(1)}`).join(' ')}"/>`;
  const w = (x(series.from + series.minuteMs) - x(series.from)).toFixed(1);
  const minutes = series.minutes.map((m) => `<g class="minute"${dataAttrs({ from: iso(m.from), sent: m.sent, resent: m.resent, stored: m.stored })}><title>${clockTime(m.from)}: ${m.sent} sent, ${m.resent} resent, ${m.stored} stored</title><rect class="hover" x="${x(m.from).toFixed(1)}" y="${F.top}" width="${w}" height="${F.height - F.top - F.bottom}"/></g>`).join('');
  const t = series.totals;
  const svg = `${svgOpen('chart-records', F, 'records sent and stored per minute over virtual time', { 'minute-ms': series.minuteMs, from: iso(series.from), 'total-sent': t.sent, 'total-resent': t.resent, 'total-stored': t.stored })}${under}${line('resent')}${line('sent')}${line('stored')}${minutes}</svg>`;
  return figure(title, svg,
    `<span class="key sent"></span> sent (first publish, by the minute it went out) <span class="key resent"></span> resent (the same record again: ack timeout, reconnect) <span class="key stored"></span> stored (acknowledged by the pipeline, by the minute the ack arrived) <span class="key fault"></span> fault window. ${t.sent} records sent, ${t.resent} resends, ${t.stored} acknowledged as stored.${context ? ` ${esc(context)}` : ''}`);
}

const LATENCY_ROW = 34;

/** One row per alarm kind: bars to p50, p95, p99 and max, and the kind's SLA as a red line; each row on its own scale. */
function latencyRows(stats: Readonly<Record<string, LatencySummary>>, underFault: boolean): { rows: string[]; count: number } {
  const kinds = Object.entries(stats).filter(([, s]) => s.count > 0);
  const f: Frame = { width: 900, height: 0, top: 0, right: 170, bottom: 0, left: 200 };
  const rows = kinds.map(([kind, s], i) => {
    const x = linear(0, Math.max(s.max, s.slaMs) * 1.05, f.left, f.width - f.right);
    const top = i * LATENCY_ROW + 4;
    const bar = (cls: string, v: number): string => `<rect class="lat ${cls}" x="${f.left}" y="${top}" width="${(x(v) - f.left).toFixed(1)}" height="${LATENCY_ROW - 12}"><title>${cls} ${fmtMs(v)}</title></rect>`;
    const sla = x(s.slaMs).toFixed(1);
    return `<g class="latency-row"${dataAttrs({ kind, 'under-fault': String(underFault), count: s.count, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max, 'sla-ms': s.slaMs })}>`
      + `<text class="row-label" x="${f.left - 8}" y="${top + (LATENCY_ROW - 12) / 2}" dy="0.32em" text-anchor="end">${esc(kind)} (${s.count})</text>`
      + `${bar('max', s.max)}${bar('p99', s.p99)}${bar('p95', s.p95)}${bar('p50', s.p50)}`
      + `<line class="sla" x1="${sla}" y1="${top - 3}" x2="${sla}" y2="${top + LATENCY_ROW - 9}"/>`
      + `<text class="tick-label" x="${f.width - f.right + 6}" y="${top + (LATENCY_ROW - 12) / 2}" dy="0.32em">max ${esc(fmtMs(s.max))} / SLA ${esc(fmtMs(s.slaMs))}</text></g>`;
  });
  return { rows, count: kinds.length };
}

/** `run`: run.json, or the live dashboard's latency so far (reports/dashboard/live-state.ts). */
export function latencyChart(run: Pick<RunResult, 'faults' | 'latencyMs' | 'latencyUnderFaultMs'>): string {
  const parts: string[] = [];
  for (const [id, stats, underFault, title] of [
    ['chart-latency', run.latencyMs, false, run.faults.length > 0 ? 'Latency per alarm kind, outside fault windows' : 'Latency per alarm kind'],
    ['chart-latency-under-fault', run.latencyUnderFaultMs, true, 'Latency per alarm kind, under a fault (judged by the late allowance, not the SLA)'],
  ] as const) {
    const { rows, count } = latencyRows(stats ?? {}, underFault);
    if (count === 0) {
      if (!underFault) parts.push(figure(title, '', 'No alarm reached the feed: no latency to show.'));
      continue;
    }
    const f: Frame = { width: 900, height: count * LATENCY_ROW + 8, top: 0, right: 0, bottom: 0, left: 0 };
    parts.push(figure(title, `${svgOpen(id, f, title)}${rows.join('')}</svg>`,
      '<span class="key p50"></span> p50 <span class="key p95"></span> p95 <span class="key p99"></span> p99 <span class="key max"></span> max <span class="key sla"></span> SLA of the kind; virtual time from the triggering record to the feed (each row on its own scale).'));
  }
  return parts.join('');
}

const ABSENCE_ROW = 30;

/** Per fault window: fault start → mass communication-loss alarm at the feed, and last heal → backlog drained. */
export function absenceChart(run: RunResult): string {
  if (run.faults.length === 0) return figure('Absence: time to detect each outage', '', 'No fault window in this run.');
  const f: Frame = { width: 900, height: run.faults.length * ABSENCE_ROW * 2 + 8, top: 0, right: 150, bottom: 0, left: 200 };
  const max = Math.max(1, ...run.faults.flatMap((x) => [x.timeToDetectMs ?? 0, x.drainMs ?? 0]));
  const x = linear(0, max * 1.05, f.left, f.width - f.right);
  const rows = run.faults.map((fault, i) => {
    const top = i * ABSENCE_ROW * 2 + 4;
    const bar = (cls: string, v: number | null, dy: number, what: string): string => {
      const label = v === null ? `${what}: never` : `${what}: ${fmtMs(v)}`;
      return `${v === null ? '' : `<rect class="${cls}" x="${f.left}" y="${top + dy}" width="${(x(v) - f.left).toFixed(1)}" height="${ABSENCE_ROW - 10}"/>`}<text class="tick-label" x="${(v === null ? f.left : x(v)) + 6}" y="${top + dy + (ABSENCE_ROW - 10) / 2}" dy="0.32em">${esc(label)}</text>`;
    };
    return `<g class="absence-row"${dataAttrs({ fault: fault.name, 'time-to-detect-ms': fault.timeToDetectMs, 'drain-ms': fault.drainMs, required: fault.absence.required, 'on-time': fault.absence.onTime })}>`
      + `<text class="row-label" x="${f.left - 8}" y="${top + ABSENCE_ROW / 2}" text-anchor="end">${esc(fault.name)} (${esc(fault.kind)})</text>`
      + `${bar('detect', fault.timeToDetectMs, 0, 'detected')}${bar('drain', fault.drainMs, ABSENCE_ROW - 4, 'drained')}</g>`;
  });
  return figure('Absence: time to detect each outage', `${svgOpen('chart-absence', f, 'time to detect each outage')}${rows.join('')}</svg>`,
    '<span class="key detect"></span> fault start → mass communication_loss alarm at the feed <span class="key drain"></span> last heal → every device\'s backlog forwarded; "never" when it did not happen. Per-device communication_loss counts are in the fault table.');
}
