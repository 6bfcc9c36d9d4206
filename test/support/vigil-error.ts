/** The VigilError `f` throws; fails the test when it throws something else or nothing. */
import { expect } from 'vitest';
import { VigilError } from '../../protocol/errors.ts';

export function vigilErrorOf(f: () => unknown): VigilError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(VigilError);
    return err as VigilError;
  }
  throw new Error('expected a VigilError, and nothing was thrown');
}
