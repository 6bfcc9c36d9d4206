/**
 * Faults inside the devices rather than on their path: a clock skew on a cohort (DESIGN.md "clock
 * skew: a cohort's clock jumps"). At `from` the targeted devices' clocks jump by `offset` — every
 * record they make is stamped with its true time + offset — and each is corrected at its heal.
 *
 * The pipeline and the oracle both see the stamped times, so an alarm's identity is unchanged; but
 * its latency must be measured from when it really became due, so `trueTrigger` takes the offset
 * back out of an expectation raised by a skewed record. communication_loss is left as stamped: it
 * is judged on what the network forwarded (verify/absence.ts), exactly as the pipeline's rule sees
 * it — a clock that jumps back by more than the offline timeout makes a talking device look
 * silent, and a rehearsal should show that.
 */
import type { Expectation } from '../../sim/model/oracle/oracle.ts';
import type { Firmware } from '../../sim/model/firmware.ts';
import type { JournalEntry } from '../../verify/journal.ts';
import type { PlannedFault } from '../faults.ts';

interface Skewed {
  readonly offset: number;
  readonly fromSeq: number;
  /** Last seq made while skewed; Infinity while still skewed. */
  toSeq: number;
}

export class DeviceFaults {
  private readonly pending: { planned: PlannedFault; offset: number; started: boolean; toHeal: [string, number][] }[];
  private readonly skews = new Map<string, Skewed[]>();

  constructor(
    faults: readonly PlannedFault[],
    private readonly firmwareOf: (deviceId: string) => Firmware | undefined,
    private readonly journal: (entry: JournalEntry) => void,
  ) {
    this.pending = faults.flatMap((planned) => {
      const f = planned.fault;
      return f.kind === 'clock-skew' ? [{ planned, offset: f.offset, started: false, toHeal: [...planned.healAt].sort((a, b) => a[1] - b[1]) }] : [];
    });
  }

  get active(): boolean {
    return this.pending.length > 0;
  }

  tick(now: number): void {
    for (const p of this.pending) {
      const f = p.planned.fault;
      if (!p.started && now >= f.from) {
        p.started = true;
        for (const id of p.planned.devices) {
          const fw = this.firmwareOf(id);
          if (!fw) continue;
          fw.setClockSkew(p.offset);
          const list = this.skews.get(id) ?? [];
          list.push({ offset: p.offset, fromSeq: fw.lastSeq + 1, toSeq: Infinity });
          this.skews.set(id, list);
        }
        this.journal({ t: 'fault', event: 'start', at: now, fault: f.name, kind: f.kind, devices: p.planned.devices.length, offsetMs: p.offset });
      }
      if (!p.started) continue;
      let n = 0;
      while (n < p.toHeal.length && (p.toHeal[n] as [string, number])[1] <= now) n++;
      if (n > 0) this.heal(f.name, p.toHeal.splice(0, n).map(([id]) => id), now);
    }
  }

  private heal(fault: string, devices: readonly string[], now: number): void {
    for (const id of devices) {
      const fw = this.firmwareOf(id);
      fw?.setClockSkew(0);
      const open = this.skews.get(id)?.find((s) => s.toSeq === Infinity);
      if (open && fw) open.toSeq = fw.lastSeq;
    }
    this.journal({ t: 'fault', event: 'heal', at: now, fault, devices });
  }

  /** Corrects every clock now (end of the timeline, abort). Idempotent. */
  healAll(now: number): void {
    for (const p of this.pending) {
      if (p.started && p.toHeal.length > 0) this.heal(p.planned.fault.name, p.toHeal.splice(0).map(([id]) => id), now);
      p.started = true;
      p.toHeal.length = 0;
    }
  }

  /** The expectation with its trigger time in true time: the skew of the record that raised it taken out. */
  trueTrigger(e: Expectation): Expectation {
    if (e.kind === 'communication_loss') return e;
    const s = this.skews.get(e.deviceId)?.find((x) => e.seq >= x.fromSeq && e.seq <= x.toSeq);
    return s ? { ...e, triggerTime: e.triggerTime - s.offset } : e;
  }
}
