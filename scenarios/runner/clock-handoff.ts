/**
 * The clock an observer hands to a load it does not run (observe mode): the run's ClockTriple
 * (protocol/clock.ts) as JSON — in runs/<id>/clock.json, on the `clock:` line it prints, and in
 * $VIGIL_CLOCK for a k6 script. Whoever makes the load reads it back here, and must run the very
 * scenario the observer derived its expectations from: same start, same speed (the device config
 * depends on it), same seed and fleet.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ClockTriple } from '../../protocol/clock.ts';
import { VigilError } from '../../protocol/errors.ts';
import type { Scenario } from '../schema.ts';
import { isProcessFault } from '../schema.ts';

/** Parses a clock triple; `from` names where the text came from, for the error. */
export function parseClock(text: string, from: string): ClockTriple {
  const fix = 'pass the JSON the observer printed on its `clock:` line, e.g. {"startVirtual":1635163200000,"startReal":1700000000000,"speed":240}';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new VigilError('VIGIL_USAGE', `${from} is not JSON: ${JSON.stringify(text.slice(0, 80))}`, fix);
  }
  const o = (v ?? {}) as Record<string, unknown>;
  for (const k of ['startVirtual', 'startReal', 'speed'] as const) {
    const n = o[k];
    if (typeof n !== 'number' || !Number.isFinite(n) || (k === 'speed' ? n <= 0 : n < 0)) {
      throw new VigilError('VIGIL_USAGE', `${from}: ${k} must be a ${k === 'speed' ? 'number > 0' : 'time in ms since the epoch'}, got ${JSON.stringify(o[k]) ?? 'nothing'}`, fix);
    }
  }
  return { startVirtual: o.startVirtual as number, startReal: o.startReal as number, speed: o.speed as number };
}

export function readClockFile(path: string): ClockTriple {
  if (!existsSync(path)) throw new VigilError('VIGIL_USAGE', `--clock-file ${path}: no such file`, 'pass the runs/<id>/clock.json the observer wrote');
  return parseClock(readFileSync(path, 'utf8'), `--clock-file ${path}`);
}

/** The load must run the observer's scenario: its start and speed must be the clock's. */
export function checkClockFits(clock: ClockTriple, scenario: Scenario, file: string): void {
  const fix = 'run the same scenario file with the same --speed, --devices and --seed as the observer (it prints the command)';
  if (clock.startVirtual !== scenario.start) {
    throw new VigilError('VIGIL_USAGE', `the clock starts virtual time at ${new Date(clock.startVirtual).toISOString()}, but scenario ${file} starts at ${new Date(scenario.start).toISOString()}: the devices would make other records than the observer expects`, fix);
  }
  if (clock.speed !== scenario.speed) {
    throw new VigilError('VIGIL_USAGE', `the clock runs at speed ${clock.speed}, but scenario ${file} runs at speed ${scenario.speed}: the devices' timing depends on it, so their records would differ from what the observer expects`, fix);
  }
}

/**
 * Observe mode verifies a load it does not make, so a scenario whose faults need Vigil inside that
 * load is refused, naming the fault and why (docs/SCENARIOS.md "Observe mode").
 */
export function refuseFaultsWithoutDevices(scenario: Scenario, file: string, flag: '--observe' | '--devices-only'): void {
  scenario.faults.forEach((f, i) => {
    const what = `scenario ${file}: faults.${i} "${f.name}" (${f.kind}) cannot run with ${flag}`;
    const fix = `run it without ${flag} (a normal run makes the load and the faults), or remove the fault`;
    if (isProcessFault(f)) {
      throw new VigilError('VIGIL_USAGE', `${what}: a process fault is judged on what each device got acknowledged and on what the operator proxies forwarded, which an observer of someone else's load cannot see`, fix);
    }
    if (f.kind === 'clock-skew') {
      throw new VigilError('VIGIL_USAGE', `${what}: it changes the devices' clocks from inside the device model, and the load generators (k6, another process) do not apply it, so the observer's expectations would not match what they send`, fix);
    }
    throw new VigilError('VIGIL_USAGE', `${what}: network faults are injected by Vigil's operator proxies between its own devices and the broker, and a load from elsewhere does not go through them`, fix);
  });
}
