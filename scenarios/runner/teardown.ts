/**
 * A run is a list of steps whose teardowns unwind in reverse (Playwright's task runner), so an
 * error or Ctrl-C still closes the fleet, the feed, the pipeline and the broker.
 */
export class Teardowns {
  private readonly stack: { name: string; fn: () => Promise<void> | void }[] = [];

  add(name: string, fn: () => Promise<void> | void): void {
    this.stack.push({ name, fn });
  }

  /** Runs every teardown, last first; one that throws does not stop the others. */
  async unwind(log: (line: string) => void): Promise<void> {
    while (this.stack.length > 0) {
      const { name, fn } = this.stack.pop() as { name: string; fn: () => Promise<void> | void };
      try {
        await fn();
      } catch (err) {
        log(`teardown of ${name} failed: ${(err as Error).message}`);
      }
    }
  }
}
