/**
 * The error vocabulary every layer shares: a stable code, what was wrong, and how to fix it
 * (STYLE.md §5). The CLI prints `message` and `fix` on one line and exits 2 ("could not run").
 */
export type VigilErrorCode =
  | 'VIGIL_SCENARIO_NOT_FOUND'
  | 'VIGIL_SCENARIO_INVALID'
  | 'VIGIL_PROVISIONING_INVALID'
  | 'VIGIL_BROKER_UNREACHABLE'
  | 'VIGIL_PIPELINE_UNREACHABLE'
  | 'VIGIL_PIPELINE_REJECTED'
  | 'VIGIL_USAGE'
  // The project config (vigil.config.ts) does not load or validate; a run's target is not on the
  // safety interlock's allow-list (config/interlock.ts).
  | 'VIGIL_CONFIG_INVALID'
  | 'VIGIL_TARGET_NOT_ALLOWED'
  // A run directory read back (vigil report, vigil compare: reports/run-dir.ts): not there or not a
  // run directory; no run.json, only the journal of a run that did not finish; run.json cut short;
  // of a schema version this reader does not take; a field missing or wrong. And two runs that
  // cannot be compared (different scenarios or seeds).
  | 'VIGIL_RUN_NOT_FOUND'
  | 'VIGIL_RUN_UNFINISHED'
  | 'VIGIL_RUN_TRUNCATED'
  | 'VIGIL_RUN_SCHEMA'
  | 'VIGIL_RUN_INVALID'
  | 'VIGIL_RUNS_NOT_COMPARABLE'
  // The live dashboard (vigil run --dashboard) cannot listen on its port: in use, or not allowed.
  | 'VIGIL_DASHBOARD_PORT'
  // HIL devices on serial ports (hil/): a port that is not there or held by another program, and a
  // device that does not answer, refuses a command, is unplugged, or answers nonsense.
  | 'VIGIL_HIL_PORT_NOT_FOUND'
  | 'VIGIL_HIL_PORT_BUSY'
  | 'VIGIL_HIL_NO_ANSWER'
  | 'VIGIL_HIL_REFUSED'
  | 'VIGIL_HIL_DOWN'
  | 'VIGIL_HIL_EXPECT_TIMEOUT'
  | 'VIGIL_HIL_BAD_ANSWER';

export class VigilError extends Error {
  override readonly name = 'VigilError';
  constructor(readonly code: VigilErrorCode, message: string, readonly fix: string) {
    super(message);
  }

  /** One line for a person: what was wrong, then the fix. */
  oneLine(): string {
    return `${this.message} — ${this.fix} [${this.code}]`;
  }
}
