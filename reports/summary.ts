/** The short summary printed at the end of a run. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './run-result.ts';
import type { HarnessPace } from '../verify/harness-pace.ts';
import { fmtMs } from '../verify/ledger.ts';

export function summaryText(r: RunResult, runDir: string): string {
  const l = r.ledger;
  const lines = [
    `${r.verdict}  ${r.scenario.name}  seed ${r.scenario.seed}  ${r.scenario.devices} devices  speed ${r.scenario.speed}`,
    `alarms: ${l.expected} expected, ${l.onTime} on time, ${l.lateAllowed > 0 ? `${l.lateAllowed} late within a fault's allowance, ` : ''}${l.late} late, ${l.dropped} dropped, ${l.duplicates} duplicate, ${l.spurious} spurious`,
  ];
  if (r.harness) lines.push(...harnessLines(r.harness, r.scenario.speed, r.verdict));
  for (const f of r.faults) {
    const a = f.alarms;
    lines.push(`fault ${f.name} (${f.kind}) ${f.from} → ${f.until}, ${f.devices} devices, healed by ${f.healedBy}`);
    lines.push(`  alarms under it: ${a ? `${a.expected} due, ${a.onTime} on time, ${a.lateAllowed} late within allowance, ${a.late} late, ${a.dropped} dropped` : 'none due'}`);
    lines.push(`  communication_loss: ${f.absence.onTime} of ${f.absence.required} on time${f.absence.lateAllowed ? `, ${f.absence.lateAllowed} late within the allowance` : ''}; outage detected (mass alarm) ${f.timeToDetectMs === null ? 'never' : `after ${fmtMs(f.timeToDetectMs)}`}; backlog drained ${f.drainMs === null ? `never for ${f.notDrained.length} devices` : `${fmtMs(f.drainMs)} after the last heal`}`);
  }
  for (const m of r.absence.mass) lines.push(`mass alarm: ${m.status}: ${m.detail}`);
  const kinds = Object.entries(r.perKind).filter(([, c]) => c.expected > 0 || c.observed > 0);
  if (kinds.length > 0) {
    lines.push(`${'kind'.padEnd(22)} ${'expected'.padStart(8)} ${'on time'.padStart(8)} ${'late'.padStart(5)} ${'dropped'.padStart(7)}  latency p50 / p99 / max (SLA), virtual${r.faults.length > 0 ? ', outside fault windows' : ''}`);
    for (const [kind, c] of kinds) {
      const s = r.latencyMs[kind];
      const lat = s && s.count > 0 ? `${(s.p50 / 1000).toFixed(1)} / ${(s.p99 / 1000).toFixed(1)} / ${(s.max / 1000).toFixed(1)} s (${s.slaMs / 1000} s)` : '—';
      lines.push(`${kind.padEnd(22)} ${String(c.expected).padStart(8)} ${String(c.onTime).padStart(8)} ${String(c.late).padStart(5)} ${String(c.dropped).padStart(7)}  ${lat}`);
    }
  }
  if (r.hil?.speedForced) lines.push(`hil: ${r.hil.speedForced.devices.join(', ')} cannot follow virtual time: run at speed 1, not ${r.hil.speedForced.from}`);
  for (const d of r.hil?.devices ?? []) {
    const own = r.hil?.ledger.filter((e) => e.deviceId === d.deviceId) ?? [];
    const n = (k: string): number => d.link[k] ?? 0;
    lines.push(`hil ${d.deviceId} (${d.identity.model} ${d.identity.serialNumber} on ${d.port.stablePath ?? d.port.path}, ${d.mode}): ${own.length} alarms, ${own.filter((e) => e.status === 'on_time').length} on time; serial link: ${n('crcErrors')} CRC errors, ${n('garbageBytes')} garbage bytes, ${n('retransmits')} retransmits, ${n('reconnects')} reconnects; bytes in ${d.byteLog}`);
  }
  lines.push(`positions: ${r.completeness.recordsStored} of ${r.completeness.recordsMade} records stored${r.observe ? ' (made: from the seed)' : ''}`);
  const lag = r.fleet['wakeLagMaxMs'];
  // A run.json written before `harness` (verify/harness-pace.ts) still says how late the harness was at worst.
  if (!r.harness && lag !== undefined && Number.isFinite(lag)) {
    lines.push(`harness: devices woken at most ${(lag / 1000).toFixed(2)} s (real) after they were due${lag * r.scenario.speed >= 60_000 ? ` — ${fmtMs(lag * r.scenario.speed)} of virtual time: delays the pipeline did not cause` : ''}`);
  }
  if (r.observe) lines.push(`observe mode: the load came from elsewhere; unknown to this run: ${r.observe.unknown.join(', ')}`);
  const failing = r.checks.filter((c) => !c.passed);
  for (const c of failing) {
    lines.push(`FAILED ${c.name}: ${c.summary}`);
    for (const item of c.items.slice(0, 10)) lines.push(`  - ${item}`);
    if (c.items.length > 10) lines.push(`  … and ${c.items.length - 10} more in run.json`);
  }
  const html = join(runDir, 'report.html');
  lines.push(`report: ${runDir}/run.json, ${runDir}/junit.xml${existsSync(html) ? `, ${html}` : ''}`);
  return lines.join('\n');
}

const SPANS_SHOWN = 5;

/** The harness lines when the harness fell behind, else none: report.html's first note, the end of each junit failure. */
export function harnessCaveat(r: Pick<RunResult, 'harness' | 'scenario' | 'verdict'>): string[] {
  return r.harness && r.harness.behindMinutes > 0 ? harnessLines(r.harness, r.scenario.speed, r.verdict) : [];
}

/**
 * Whether the harness kept its clock, right under the alarm counts: a run whose harness fell behind
 * is read differently (verify/harness-pace.ts).
 */
export function harnessLines(h: HarnessPace, speed: number, verdict: RunResult['verdict']): string[] {
  const worst = `${(h.lagMaxMs / 1000).toFixed(2)} s real (${fmtMs(h.lagMaxMs * speed)} of virtual time)`;
  if (h.behindMinutes === 0) return [`harness: kept its clock: devices woken at most ${worst} after they were due (limit ${fmtMs(h.limitMs)} virtual)`];
  const hhmm = (iso: string): string => iso.slice(11, 16);
  const spans = h.behind.slice(0, SPANS_SHOWN).map((b) => `${hhmm(b.from)}–${hhmm(b.until)}Z (${(b.lagMaxMs / 1000).toFixed(2)} s)`);
  const more = h.behind.length > SPANS_SHOWN ? ` and ${h.behind.length - SPANS_SHOWN} more spans in run.json` : '';
  const lines = [`harness: BEHIND its clock by more than ${fmtMs(h.limitMs)} (virtual) in ${h.behindMinutes} minutes: ${spans.join(', ')}${more}; at worst ${worst}`];
  if (verdict === 'PASS') lines.push(`  every SLA was met, but in those minutes the load came late and lighter than the scenario asks: this run does not show the pipeline carries its full rate — run again at a lower --speed (this run: ${speed}) or on a machine with the cores to spare`);
  else if (h.failures > 0) {
    lines.push(`  ${h.failuresWhileBehind} of the ${h.failures} late, dropped or spurious alarms had such a minute before their deadline: they may be the harness's failures, not the pipeline's — run again at a lower --speed (this run: ${speed}) or on a machine with the cores to spare`);
  }
  return lines;
}
