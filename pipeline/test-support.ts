/** Shared by the engine tests: temporary store files, removed with everything else registered after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** Runs `f` after the current test (close a store, remove a folder). */
export function onCleanup(f: () => void): void {
  cleanup.push(f);
}

/** A store file in a fresh temporary folder, removed after the test. */
export function tempDbFile(prefix = 'vigil-engine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'p.db');
}
