/**
 * The tables of report.html: every failure named (DESIGN.md "The ledger": never a bare count),
 * counts per alarm kind and per device type, fault windows with their outcome, the checks, and the
 * real devices with an excerpt of their serial byte log. Rows carry their numbers as data-*.
 */
import { fmtMs } from '../../verify/ledger.ts';
import type { RunResult } from '../run-result.ts';
import type { ByteLogExcerpt } from '../run-dir.ts';
import { dataAttrs, esc } from './svg.ts';

type Cell = string | number;

function table(id: string, head: readonly string[], rows: readonly string[], empty: string): string {
  if (rows.length === 0) return `<p class="empty" id="${esc(id)}">${esc(empty)}</p>`;
  return `<table id="${esc(id)}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function row(cells: readonly Cell[], data: Readonly<Record<string, string | number | null | undefined>> = {}, cls = ''): string {
  return `<tr${cls ? ` class="${esc(cls)}"` : ''}${dataAttrs(data)}>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

const time = (t: number | undefined): string => (t === undefined || !Number.isFinite(t) ? '—' : new Date(t).toISOString());

export function failuresTable(run: RunResult): string {
  const rows = run.failures.map((e) =>
    row([e.deviceId + (e.hil ? ' (real)' : ''), e.kind, time(e.deviceTime), e.status.replace('_', ' '), e.latencyMs === undefined ? '—' : fmtMs(e.latencyMs), e.detail],
      { 'device-id': e.deviceId, kind: e.kind, status: e.status, seq: e.seq, 'device-time': e.deviceTime, 'latency-ms': e.latencyMs }, `failure ${e.status}`));
  return table('table-failures', ['device', 'kind', 'device time', 'outcome', 'latency', 'what happened'], rows, 'No failure: every expected alarm reached the feed on time, once.');
}

export function lateAllowedTable(run: RunResult): string {
  const rows = run.lateAllowed.map((e) =>
    row([e.deviceId, e.kind, time(e.deviceTime), e.latencyMs === undefined ? '—' : fmtMs(e.latencyMs), (e.faults ?? []).join(', '), e.detail],
      { 'device-id': e.deviceId, kind: e.kind, 'latency-ms': e.latencyMs }));
  return table('table-late-allowed', ['device', 'kind', 'device time', 'latency', 'fault', 'detail'], rows, 'No alarm was late within a fault\'s allowance.');
}

const COUNTS = ['expected', 'onTime', 'late', 'dropped', 'duplicates', 'spurious', 'observed'] as const;

function countsTable(id: string, what: string, counts: RunResult['perKind']): string {
  const rows = Object.entries(counts).map(([name, c]) => row([name, ...COUNTS.map((k) => c[k])], { [what]: name, ...Object.fromEntries(COUNTS.map((k) => [k.toLowerCase(), c[k]])) }));
  return table(id, [what, 'expected', 'on time', 'late', 'dropped', 'duplicate', 'spurious', 'observed'], rows, `No ${what} counted.`);
}

export const perKindTable = (run: RunResult): string => countsTable('table-per-kind', 'kind', run.perKind);
export const perDeviceTypeTable = (run: RunResult): string => countsTable('table-per-device-type', 'type', run.perDeviceType);

export function faultsTable(run: RunResult): string {
  const rows = run.faults.map((f) => {
    const a = f.alarms;
    const alarms = a ? `${a.expected} due: ${a.onTime} on time, ${a.late} late, ${a.dropped} dropped` : 'none due';
    const absence = `${f.absence.onTime} of ${f.absence.required} on time${f.absence.missing > 0 ? `, ${f.absence.missing} missing` : ''}${f.absence.late > 0 ? `, ${f.absence.late} late` : ''}`;
    return row([f.name, f.kind, f.from, f.until, f.devices, alarms, absence, f.timeToDetectMs === null ? 'never' : fmtMs(f.timeToDetectMs), f.drainMs === null ? `never (${f.notDrained.length} device${f.notDrained.length === 1 ? '' : 's'})` : fmtMs(f.drainMs)],
      { fault: f.name, from: f.from, until: f.until, devices: f.devices, dropped: a?.dropped ?? 0, late: a?.late ?? 0, 'time-to-detect-ms': f.timeToDetectMs, 'drain-ms': f.drainMs });
  });
  return table('table-faults', ['fault', 'kind', 'from', 'until', 'devices', 'alarms under it', 'communication_loss', 'outage detected after', 'backlog drained after'], rows, 'No fault window in this run.');
}

/** Items named under a failed check: alarms are all in the failures table, other checks' items (gaps, devices) only here. */
const CHECK_ITEMS = 20;

export function checksTable(run: RunResult): string {
  const rows = run.checks.map((c) => {
    const shown = c.items.slice(0, CHECK_ITEMS).map((i) => `<li>${esc(i)}</li>`).join('');
    const more = c.items.length > CHECK_ITEMS ? `<li>… and ${c.items.length - CHECK_ITEMS} more in run.json "checks"</li>` : '';
    const items = c.items.length > 0 ? `<ul class="items">${shown}${more}</ul>` : '';
    return `<tr class="${c.passed ? 'pass' : 'fail'}"${dataAttrs({ check: c.name, passed: String(c.passed), items: c.items.length })}><td>${c.passed ? 'pass' : 'FAIL'}</td><td>${esc(c.name)}</td><td>${esc(c.summary)}${items}</td></tr>`;
  });
  return table('table-checks', ['', 'check', 'result'], rows, 'No check ran.');
}

function excerpt(log: ByteLogExcerpt | undefined): string {
  if (!log) return '<p class="empty">byte log missing</p>';
  const skipped = log.lines - log.head.length - log.tail.length;
  const text = [...log.head, ...(skipped > 0 ? [`… ${skipped} more lines in ${log.file} …`] : []), ...log.tail].join('\n');
  return `<pre class="byte-log"${dataAttrs({ file: log.file, lines: log.lines })}>${esc(text)}</pre>`;
}

export function hilTable(run: RunResult, logs: ReadonlyMap<string, ByteLogExcerpt>): string {
  if (!run.hil) return '<p class="empty" id="table-hil">No real device in this run.</p>';
  const parts = run.hil.devices.map((d) => {
    const own = run.hil?.ledger.filter((e) => e.deviceId === d.deviceId) ?? [];
    const onTime = own.filter((e) => e.status === 'on_time').length;
    const link = Object.entries(d.link).map(([k, v]) => `${k} ${v}`).join(', ');
    const head = row([d.deviceId, `${d.identity.model} ${d.identity.serialNumber} (fw ${d.identity.firmwareVersion})`, d.port.stablePath ?? d.port.path, d.mode, `${own.length} alarms, ${onTime} on time`, link],
      { 'device-id': d.deviceId, alarms: own.length, 'on-time': onTime });
    return head + `<tr class="byte-log-row"><td colspan="6">${excerpt(logs.get(d.deviceId))}</td></tr>`;
  });
  const forced = run.hil.speedForced ? `<p>${esc(`${run.hil.speedForced.devices.join(', ')} cannot follow virtual time: the run went at speed 1, not ${run.hil.speedForced.from}.`)}</p>` : '';
  return forced + table('table-hil', ['device', 'identity', 'port', 'mode', 'alarms', 'serial link'], parts, 'No real device in this run.');
}
