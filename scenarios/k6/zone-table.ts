/**
 * A time zone's UTC offsets as a table (export-config.ts ZoneTable): built at export time from any
 * offset function (luxon's, in Node), read in k6 by binary search (luxon-shim.ts).
 */
import type { ZoneTable } from './export-config.ts';

const HOUR = 3_600_000;
/**
 * Scan step when looking for transitions. Two transitions less than a week apart would be missed;
 * no zone Vigil models has had any since 1970 (Europe/Paris: two a year, March and October).
 */
const STEP = 7 * 24 * HOUR;

/** The offsets of `zone` over [from, to], every transition located to the millisecond. */
export function buildZoneTable(zone: string, from: number, to: number, offsetAt: (t: number) => number): ZoneTable {
  const offsets = [offsetAt(from)];
  const transitions: number[] = [];
  let prev = from;
  while (prev < to) {
    const next = Math.min(prev + STEP, to);
    const before = offsets[offsets.length - 1] as number;
    const after = offsetAt(next);
    if (after !== before) {
      // Bisection: lo still has the old offset, hi the new one.
      let lo = prev;
      let hi = next;
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (offsetAt(mid) === before) lo = mid;
        else hi = mid;
      }
      transitions.push(hi);
      offsets.push(after);
    }
    prev = next;
  }
  return { zone, from, to, offsets, transitions };
}

/** The offset in minutes at instant t, by the table; NaN for a non-finite t, as luxon answers. */
export function tableOffset(table: ZoneTable, t: number): number {
  if (!Number.isFinite(t)) return NaN;
  if (t < table.from || t > table.to) {
    throw new RangeError(
      `the k6 script's ${table.zone} offset table covers ${new Date(table.from).toISOString()} → ${new Date(table.to).toISOString()}, ` +
      `asked for ${new Date(t).toISOString()}: export the script again (vigil k6 export) for this scenario`,
    );
  }
  const ts = table.transitions;
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return table.offsets[lo] as number;
}
