/**
 * The watchdog timer (docs/RULES.md): sweeps every device about once a second real, and at most every
 * 5 virtual seconds, for gaps older than the gap timeout, communication_loss and the mass rule
 * (Engine.sweep). The period follows the clock speed of the current run.
 */
import { watchdogPeriodMs } from './rules/communication-loss.ts';
import type { Engine } from './engine.ts';

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly engine: Engine, private readonly log: (line: string) => void) {
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    const w = this.engine.watch();
    this.timer = setTimeout(() => this.tick(), w ? watchdogPeriodMs(w.speed) : 1000);
  }

  private tick(): void {
    try {
      this.engine.sweep();
    } catch (err) {
      this.log(`watchdog sweep failed: ${String(err)}`);
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
