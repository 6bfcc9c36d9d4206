/**
 * Where the progress line goes (issue 6, item 2). On a terminal: one live line, redrawn in place,
 * with every other log line printed above it. Anywhere else (CI, a pipe, a file): a plain line every
 * `everyMs`, and never a control character, so a log stays readable and greppable.
 *
 * Hand-written rather than a library (log-update, ora…): none is a dependency, and the whole of it is
 * two control sequences — carriage return, and ECMA-48 "Erase in Line" (CSI K) to clear what is right
 * of the cursor.
 */
import { renderProgress, type ProgressState } from './progress.ts';

const RETURN = '\r';
/** ECMA-48 EL (Erase in Line), from the cursor to the end. */
const ERASE_TO_END = '\x1b[K';

/** The part of a Node stream a writer needs; a test passes a fake with `isTTY` and `columns`. */
export interface ProgressStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressWriter {
  /** A new state: redrawn at once on a terminal, printed when `everyMs` has passed elsewhere. */
  update(state: ProgressState): void;
  /** Any other line of the run, printed whole, never through the live line. */
  log(line: string): void;
  /** The run's progress is over: the last line stays, and what follows starts on a line of its own. */
  end(): void;
  /** True when progress is drawn in place (a terminal). */
  readonly live: boolean;
}

export interface ProgressWriterOptions {
  /** Real ms between plain lines when not on a terminal; 0 prints none. */
  readonly everyMs: number;
  readonly now?: () => number;
  /** The environment's TERM (default process.env.TERM): a `dumb` terminal cannot move its cursor. */
  readonly term?: string | undefined;
}

export function progressWriter(stream: ProgressStream, opts: ProgressWriterOptions): ProgressWriter {
  const live = stream.isTTY === true && (opts.term ?? process.env.TERM) !== 'dumb';
  return live ? liveWriter(stream) : plainWriter(stream, opts.everyMs, opts.now ?? Date.now);
}

function liveWriter(stream: ProgressStream): ProgressWriter {
  let shown: string | undefined;
  // One column short of the width: writing into the last column makes some terminals wrap, and a
  // wrapped line is no longer redrawn in place.
  const fit = (line: string): string => (stream.columns && stream.columns > 1 ? line.slice(0, stream.columns - 1) : line);
  const draw = (): void => void (shown !== undefined && stream.write(`${RETURN}${fit(shown)}${ERASE_TO_END}`));
  return {
    live: true,
    update(state) {
      shown = renderProgress(state);
      draw();
    },
    log(line) {
      if (shown === undefined) {
        stream.write(`${line}\n`);
        return;
      }
      stream.write(`${RETURN}${ERASE_TO_END}${line}\n`);
      draw();
    },
    end() {
      if (shown !== undefined) stream.write('\n');
      shown = undefined;
    },
  };
}

function plainWriter(stream: ProgressStream, everyMs: number, now: () => number): ProgressWriter {
  // A line when a new period of everyMs has begun since the writer was made: on a fixed cadence, so
  // samples that come a millisecond early (timers drift) do not skip a line.
  const since = now();
  let printed = 0;
  // The last state not printed yet: end() prints it, so a log always ends on where the run ended
  // (a drain shorter than everyMs would otherwise leave no line at all).
  let unprinted: ProgressState | undefined;
  return {
    live: false,
    update(state) {
      if (everyMs <= 0) return;
      const period = Math.floor((now() - since) / everyMs);
      if (period <= printed) {
        unprinted = state;
        return;
      }
      printed = period;
      unprinted = undefined;
      stream.write(`${renderProgress(state)}\n`);
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    end() {
      if (unprinted !== undefined) stream.write(`${renderProgress(unprinted)}\n`);
      unprinted = undefined;
    },
  };
}
