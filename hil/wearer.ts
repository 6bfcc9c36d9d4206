/**
 * Where a real device's wearer is, minute by minute: the planned wearer's routine (sim/model: home,
 * work, errands, from the scenario's seed) with the scenario's `enterZone` stimuli laid over it as
 * visits. Nothing else: a real device in a run lives only the violations its scenario scripts, so a
 * hardware test is the same every time (the virtual fleet around it keeps DOMAIN.md's rates).
 */
import type { LatLon } from '../sim/model/geo.ts';
import { localDay, localInstant } from '../sim/model/localtime.ts';
import { Trajectory, travelMs } from '../sim/model/mobility.ts';
import { rng } from '../sim/model/random.ts';
import { BaseRoutine, OverrideQueue, PlaceTimeline, type Override, type OverrideChunk, type RoutineProfile } from '../sim/model/routine.ts';

/** The wearer sets off for `place` at `from`, stays there `stayMs` once arrived, then goes back to the routine. */
export interface Visit {
  readonly from: number;
  readonly stayMs: number;
  readonly place: LatLon;
}

/**
 * The trajectory of a wearer with `routine`, from virtual `start`, drawn as sim/model/fleet-plan.ts's
 * createFirmware draws a virtual device's (the same first day, origin and routine stream), with the
 * visits as its only overrides.
 */
export function wearerTrajectory(deviceId: string, routine: RoutineProfile, seed: number, start: number, visits: readonly Visit[]): Trajectory {
  const firstDay = localDay(start) - 1;
  const origin = localInstant(firstDay, 0);
  const base = (): BaseRoutine => new BaseRoutine(routine, rng(seed, 'routine', deviceId), firstDay);
  // Where the routine has the wearer when a visit starts, for its travel time: the stay starts on arrival.
  const routineOnly = new Trajectory(new PlaceTimeline(base(), undefined, routine.home), routine.home, origin);
  const items: Override[] = [...visits].sort((a, b) => a.from - b.from).map((v) => ({
    from: v.from, to: v.from + travelMs(routineOnly.positionAt(v.from), v.place) + v.stayMs, steps: [{ at: v.from, place: v.place }],
  }));
  return new Trajectory(new PlaceTimeline(base(), new VisitOverrides(items), routine.home), routine.home, origin);
}

/** The visits as overrides: one chunk holds them all, and nothing starts after its infinite floor. */
class VisitOverrides extends OverrideQueue {
  constructor(private items: readonly Override[]) {
    super();
  }

  protected produce(): OverrideChunk {
    const items = this.items;
    this.items = [];
    return { items, floor: Infinity };
  }
}
