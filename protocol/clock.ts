/**
 * The virtual clock every process of a run shares (DESIGN.md "Time"):
 *
 *     virtual = startVirtual + (realNow − startReal) × speed
 *
 * The triple travels to the pipeline in provisioning and to worker processes on their command line,
 * so heartbeats, watchdogs and SLAs scale together. All times are milliseconds since the Unix epoch;
 * `realNow` is the wall clock (`Date.now()`), which every process on one machine reads alike.
 */
export interface ClockTriple {
  /** Virtual time (ms since epoch) at `startReal`. */
  readonly startVirtual: number;
  /** Wall-clock time (ms since epoch) at which virtual time was `startVirtual`. */
  readonly startReal: number;
  /** Virtual milliseconds per real millisecond; 1 is real time. */
  readonly speed: number;
}

export interface Clock {
  readonly triple: ClockTriple;
  /** Virtual now, ms since epoch. */
  now(): number;
  /** Real milliseconds until virtual time `virtualAt` (negative when it is past). */
  realDelayUntil(virtualAt: number): number;
  /** Virtual milliseconds → real milliseconds. */
  toReal(virtualMs: number): number;
}

/** A clock reading `realNow` (injected so tests run it under a fake). */
export function virtualClock(triple: ClockTriple, realNow: () => number = Date.now): Clock {
  if (!(triple.speed > 0) || !Number.isFinite(triple.speed)) {
    throw new RangeError(`clock speed must be a positive number, got ${String(triple.speed)}`);
  }
  return {
    triple,
    now: () => triple.startVirtual + (realNow() - triple.startReal) * triple.speed,
    realDelayUntil: (virtualAt) => triple.startReal + (virtualAt - triple.startVirtual) / triple.speed - realNow(),
    toReal: (virtualMs) => virtualMs / triple.speed,
  };
}
