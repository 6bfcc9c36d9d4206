/**
 * Shared by the `*.fuzz.test.ts` suites (issue 8 item 7): how many cases each property runs, and the
 * one property every decoder must keep — an input either decodes or is refused with the module's
 * own typed error (a class with a stable `code`), never a TypeError/RangeError from deep inside.
 */
import { expect } from 'vitest';

/** Issue 8: "at least 10,000 cases each in CI". FUZZ_RUNS raises it for a longer local hunt. */
export const FUZZ_RUNS = Math.max(10_000, Number(process.env.FUZZ_RUNS ?? 0) || 0);

/** A typed error class: an Error subclass whose instances carry a stable `code`. */
export type TypedError = abstract new (...args: never[]) => Error & { readonly code: string };

/**
 * Runs `decode` on one input: returns its value, or undefined when it threw `typed` (with its code
 * set). Anything else it throws fails the property, with the input that did it.
 */
export function decodesOrRefuses<T>(decode: () => T, typed: TypedError): T | undefined {
  try {
    return decode();
  } catch (err) {
    if (err instanceof typed && typeof err.code === 'string' && err.code !== '') return undefined;
    expect.fail(`threw an untyped ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
  }
}
