import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { Store } from './store.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

it('refuses a store file of another schema version (4: records keyed by (device, seq))', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'p.db');
  const old = new Database(file);
  old.pragma('user_version = 4');
  old.close();
  expect(() => new Store(file)).toThrow(/schema 4, this pipeline reads 5/);
  expect(() => new Store(file)).toThrow(expect.objectContaining({ code: 'VIGIL_USAGE', fix: expect.stringMatching(/new --db file/) }));
  const fresh = new Store(join(dir, 'new.db'));
  fresh.close();
  expect(() => new Store(join(dir, 'new.db')).close()).not.toThrow();
});
