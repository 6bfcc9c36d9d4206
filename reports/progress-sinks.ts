/**
 * One sample, many sinks (issue 6): the run samples itself once a real second
 * (scenarios/runner/run-progress.ts) and hands the same sample to the progress line and, with
 * `--dashboard`, to the live dashboard — never a second timer over the oracle.
 *
 * A sink that throws is reported once and dropped, and the others go on (STYLE.md §6: a reporter
 * that throws never stalls the fleet).
 */
import type { ProgressSink } from './progress.ts';
import type { ProgressWriter } from './progress-writer.ts';

/** The progress line (terminal or CI log) as a sink: it shows the sample's state. */
export function lineSink(writer: ProgressWriter): ProgressSink {
  return { update: (sample) => writer.update(sample.state), end: () => writer.end() };
}

/** Every sink gets every sample, in order; `onError` hears of a sink that threw (it gets no more). */
export function fanOut(sinks: readonly ProgressSink[], onError: (err: unknown) => void): ProgressSink {
  const live = new Set(sinks);
  const each = (call: (s: ProgressSink) => void): void => {
    for (const s of [...live]) {
      try {
        call(s);
      } catch (err) {
        live.delete(s);
        onError(err);
      }
    }
  };
  return { update: (sample) => each((s) => s.update(sample)), end: () => each((s) => s.end()) };
}
