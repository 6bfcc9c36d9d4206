/**
 * A run.json of an older schema (reports/run-result.ts SCHEMA_VERSION) still gets a report: what
 * that schema did not record yet is filled as "none" and named, so the page says what it cannot
 * show instead of refusing the whole run (issue 6: "regenerate what can be, say what cannot").
 */

/** The sections schemas 1 and 2 may lack, and their empty value. */
const ADDED_SINCE: Readonly<Record<string, unknown>> = {
  perDeviceType: {},
  latencyUnderFaultMs: {},
  faults: [],
  lateAllowed: [],
  absence: { toleranceMs: 0, lateAllowanceMs: 0, devicesWatched: 0, episodes: 0, required: 0, mass: [], spuriousMass: [] },
};

/** `raw` with the missing sections filled; `notes` gets one line naming them. */
export function fillOlderSchema(raw: Record<string, unknown>, version: number, current: number, notes: string[]): Record<string, unknown> {
  const missing = Object.keys(ADDED_SINCE).filter((k) => !(k in raw));
  const filled: Record<string, unknown> = { ...Object.fromEntries(missing.map((k) => [k, ADDED_SINCE[k]])), ...raw };
  if (typeof raw['ledger'] === 'object' && raw['ledger'] !== null && !('lateAllowed' in raw['ledger'])) {
    filled['ledger'] = { lateAllowed: 0, ...raw['ledger'] };
    missing.push('ledger.lateAllowed');
  }
  const scenario = raw['scenario'];
  if (typeof scenario === 'object' && scenario !== null && !('mix' in scenario)) missing.push('scenario.mix');
  notes.push(`run.json is schema ${version} (this Vigil writes ${current})${missing.length > 0 ? `: it has no ${missing.join(', ')}; those parts are shown empty` : ''}`);
  return filled;
}
