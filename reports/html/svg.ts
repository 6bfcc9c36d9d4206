/**
 * The few SVG pieces every chart of report.html needs: escaping, linear scales, time and value
 * axes, and the shaded fault windows.
 *
 * Why charts are drawn here, server-side, rather than by a charting library inlined into the page:
 * the page then needs no JavaScript at all (it opens offline and identically everywhere), prints
 * exactly as it shows (acceptance evidence is often printed), and every number a chart shows sits in
 * the DOM as a data-* attribute, where a test or a reviewer can read it instead of trusting pixels.
 * Linear scales and ticks are a dozen lines each, not worth a dependency (d3-scale is not installed).
 */
import type { FaultReport } from '../../verify/network.ts';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values into HTML/SVG. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** `data-*` attributes from a record: `{ p50: 3 }` → ` data-p50="3"`. */
export function dataAttrs(data: Readonly<Record<string, string | number | null | undefined>>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` data-${k}="${esc(v ?? '')}"`)
    .join('');
}

export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly left: number;
}

export const TIME_FRAME: Frame = { width: 900, height: 240, top: 16, right: 16, bottom: 36, left: 56 };

/** A linear map from [d0, d1] to [r0, r1] (a zero-width domain maps to r0). */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** A step of 1, 2 or 5 × 10^k giving at most `ticks` ticks from 0 to max. */
export function niceStep(max: number, ticks = 5): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) as number;
  return Math.max(step, Number.EPSILON);
}

const MINUTE = 60_000;
const TIME_STEPS = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

/** Local time of day in France, where the devices are (DOMAIN.md), for axis labels. */
const clockFmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
export const clockTime = (t: number): string => clockFmt.format(new Date(t));

export function svgOpen(id: string, frame: Frame, label: string, data: Readonly<Record<string, string | number | null | undefined>> = {}): string {
  return `<svg id="${esc(id)}" class="chart" viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg"${dataAttrs(data)}>`;
}

/** The x axis of a chart over virtual time, labelled in French local time. */
export function timeAxis(x: (t: number) => number, from: number, until: number, f: Frame): string {
  const step = TIME_STEPS.find((s) => (until - from) / s <= 8) ?? (TIME_STEPS.at(-1) as number);
  const y = f.height - f.bottom;
  const parts = [`<line class="axis" x1="${f.left}" y1="${y}" x2="${f.width - f.right}" y2="${y}"/>`];
  for (let t = Math.ceil(from / step) * step; t <= until; t += step) {
    const px = x(t).toFixed(1);
    parts.push(`<line class="tick" x1="${px}" y1="${y}" x2="${px}" y2="${y + 4}"/><text class="tick-label" x="${px}" y="${y + 16}" text-anchor="middle">${clockTime(t)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${f.width - f.right}" y="${f.height - 4}" text-anchor="end">virtual time, Europe/Paris</text>`);
  return parts.join('');
}

/** The y axis from 0 to max with light grid lines. */
export function valueAxis(y: (v: number) => number, max: number, f: Frame, label: string): string {
  const step = niceStep(max);
  const parts = [`<line class="axis" x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.height - f.bottom}"/>`];
  for (let v = 0; v <= max + step / 1e6; v += step) {
    const py = y(v).toFixed(1);
    parts.push(`<line class="grid" x1="${f.left}" y1="${py}" x2="${f.width - f.right}" y2="${py}"/><text class="tick-label" x="${f.left - 6}" y="${py}" dy="0.32em" text-anchor="end">${Number(v.toPrecision(6))}</text>`);
  }
  parts.push(`<text class="axis-label" transform="translate(12 ${f.top + (f.height - f.top - f.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`);
  return parts.join('');
}

/** What shading a fault window needs: run.json's fault report, or a live run's scenario fault (reports/dashboard/). */
export type FaultWindow = Pick<FaultReport, 'name' | 'kind' | 'from' | 'until'>;

/** A fault window with its times as numbers; a window whose times do not parse is not drawn. */
export function faultWindows(faults: readonly FaultWindow[]): { readonly fault: FaultWindow; readonly from: number; readonly until: number }[] {
  return faults.map((fault) => ({ fault, from: Date.parse(fault.from), until: Date.parse(fault.until) })).filter((w) => Number.isFinite(w.from) && Number.isFinite(w.until));
}

/** The shaded fault windows, behind the data; each names its fault and times. */
export function faultShading(faults: readonly FaultWindow[], x: (t: number) => number, from: number, until: number, f: Frame): string {
  return faultWindows(faults)
    .filter((w) => w.until >= from && w.from <= until)
    .map(({ fault, from: a, until: b }) => {
      const x0 = x(Math.max(a, from));
      const x1 = x(Math.min(b, until));
      return `<rect class="fault-window"${dataAttrs({ fault: fault.name, kind: fault.kind, from: fault.from, until: fault.until })} x="${x0.toFixed(1)}" y="${f.top}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${f.height - f.top - f.bottom}"><title>${esc(`fault ${fault.name} (${fault.kind}) ${fault.from} → ${fault.until}`)}</title></rect>`;
    })
    .join('');
}
