/**
 * Errors of a HIL device: a VigilError (code, message, fix; the CLI exits 2) that also names the
 * port and, for a command, the command — "device on /dev/serial/by-id/… did not acknowledge FIX".
 */
import { VigilError, type VigilErrorCode } from '../protocol/errors.ts';

export class HilError extends VigilError {
  constructor(code: VigilErrorCode, message: string, fix: string, readonly port: string, readonly command?: string) {
    super(code, message, fix);
  }
}
