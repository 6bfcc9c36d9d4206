/**
 * Incidents that come and go on their own clock, independent of where the wearer is: strap
 * tampers, SOS presses, home-unit tampers and moves (Poisson events), and GPS outages.
 */
import { nextPoisson, type Rng } from './random.ts';
import { TIME } from './defaults.ts';

/** A Poisson stream of one kind of event. */
export class PoissonEvents {
  at: number;

  constructor(private readonly r: Rng, private readonly perDay: number, from: number) {
    this.at = Math.round(nextPoisson(r, from, perDay));
  }

  advance(): void {
    this.at = Math.round(nextPoisson(this.r, this.at, this.perDay));
  }

  /** Starts afresh from t (the device was off: what happened meanwhile went unseen). */
  restartFrom(t: number): void {
    this.at = Math.round(nextPoisson(this.r, t, this.perDay));
  }
}

/** Extra outage after the 5 minutes that make it a loss: 1 min + Exp(15 min). */
const OUTAGE_EXTRA_MS = TIME.MINUTE;
const OUTAGE_MEAN_MS = 15 * TIME.MINUTE;

/**
 * GPS outages (indoors, jamming), each long enough to be reported: no fix from `start`, event
 * gps_lost `lostAfterMs` later (docs/RULES.md: 5 minutes), gps_restored at `end`.
 */
export class GpsOutages {
  start = Infinity;
  end = Infinity;
  private reported = false;

  constructor(private readonly r: Rng, private readonly perDay: number, private readonly lostAfterMs: number, from: number) {
    this.restartFrom(from);
  }

  restartFrom(t: number): void {
    this.start = Math.round(nextPoisson(this.r, t, this.perDay));
    this.end = Math.round(this.start + this.lostAfterMs + OUTAGE_EXTRA_MS - Math.log(1 - this.r.next()) * OUTAGE_MEAN_MS);
    this.reported = false;
  }

  /** Time of the next event (gps_lost, then gps_restored). */
  nextEventAt(): number {
    return this.reported ? this.end : this.start + this.lostAfterMs;
  }

  /** Applies the event at nextEventAt(). */
  take(): 'gps_lost' | 'gps_restored' {
    if (!this.reported) {
      this.reported = true;
      return 'gps_lost';
    }
    this.restartFrom(this.end);
    return 'gps_restored';
  }

  /** No fix at t. */
  noFix(t: number): boolean {
    return t >= this.start && t < this.end;
  }
}
