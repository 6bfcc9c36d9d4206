/** Waiting in tests for what a real socket, broker or process does in its own time. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `cond()` holds, polling every 10 ms; throws after `ms` without it, naming `what`. */
export async function until(cond: () => boolean, ms = 5000, what = 'a condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
