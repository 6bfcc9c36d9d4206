/**
 * Durations in scenarios are text a person writes: "2h", "90m", "1h30m", "45s", "500ms".
 * Hand-written: the accepted forms and the error message are part of the scenario contract.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const FORM = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;

/**
 * The longest duration there is: 100 years. Past it a time on the timeline (start + duration, a
 * fault's "+offset") leaves what a Date can hold (±8.64e15 ms) and the validator's own messages
 * threw a RangeError; "1e400" digits even made Infinity (found by scenarios/schema.fuzz.test.ts).
 */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/** Milliseconds of a duration like "1h30m", or undefined when it is not one (or longer than MAX_DURATION_MS). */
export function parseDuration(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = FORM.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return total <= MAX_DURATION_MS ? total : undefined;
}

export const DURATION_HINT = 'a duration like "2h", "90m", "1h30m", "45s" or "500ms" (at most 100 years)';
