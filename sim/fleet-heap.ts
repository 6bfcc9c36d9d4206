/**
 * How often V8 collects the old generation in a process that holds devices and nothing else: a
 * `--workers` shard (sim/fleet-worker.ts), and the bench's fleet (bench/vigil-fleet.ts), which is
 * set up as a shard is. Process-wide, set once at its start.
 *
 * A fleet's heap is mostly the device models, alive for the whole run, with a steady stream of
 * objects that live a little too long to die young (a device's next record, worked out ahead; a
 * wearer's next waypoint) and so are promoted and die old. V8's heap controller lets the old
 * generation grow to between 1.1 and 4 times what was live after its last full collection before it
 * collects again, the factor picked from the collector's and the program's speeds. In the bench's
 * 15,000-device fleet the old generation was 243 MiB used at the end of its steady window, of
 * which ~110 MiB dead, with no full collection in 20 s: the RSS per device measured that garbage.
 * A growing factor of 1.2 collects once the old generation has grown by a fifth instead.
 *
 * The cost is marking, and it grows with what a process promotes: invisible in a process of
 * devices, ~12 % more CPU for `vigil run`'s own process in the 2021 replay, where the oracle, the
 * journal and the verdict share the heap (and a machine short of CPU at speed 100). So a run's main
 * process keeps V8's own factor. docs/PERFORMANCE.md has the measurements.
 *
 * The flag is read at each full collection (V8's heap controller), so it takes effect when set
 * from the running process; `node --heap-growing-percent=N` on the command line still wins.
 */
import { setFlagsFromString } from 'node:v8';

export const FLEET_HEAP_GROWING_PERCENT = 20;

let tuned = false;

/** Sets the flag once per process; returns it, or undefined when already set or given on the command line. */
export function tuneHeapForFleet(): string | undefined {
  if (tuned) return undefined;
  tuned = true;
  if (process.execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return undefined;
  const flag = `--heap-growing-percent=${FLEET_HEAP_GROWING_PERCENT}`;
  setFlagsFromString(flag);
  return flag;
}
