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
  | 'VIGIL_USAGE';

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
