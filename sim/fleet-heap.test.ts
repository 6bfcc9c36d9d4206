import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** What tuneHeapForFleet returns when called twice in a fresh node started with `nodeArgs`, and what that node wrote to stderr. */
function inFreshNode(nodeArgs: string[]): { returned: (string | null)[]; stderr: string } {
  const script = "const { tuneHeapForFleet } = await import('./sim/fleet-heap.ts'); console.log(JSON.stringify([tuneHeapForFleet() ?? null, tuneHeapForFleet() ?? null]));";
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { returned: JSON.parse(r.stdout) as (string | null)[], stderr: r.stderr };
}

describe('tuneHeapForFleet', () => {
  it('sets V8’s heap growing factor once per process, with a flag V8 knows (no warning of an unknown flag)', () => {
    const r = inFreshNode([]);
    expect(r.returned).toEqual(['--heap-growing-percent=20', null]);
    expect(r.stderr).toBe('');
    // The check above can fail: V8 warns of a flag it does not know.
    const unknown = spawnSync(process.execPath, ['-e', "require('node:v8').setFlagsFromString('--heap-growing-percentage=20')"], { encoding: 'utf8' });
    expect(unknown.stderr).toMatch(/unrecognized flag/);
  });

  it('leaves the factor to the command line when one is given there', () => {
    expect(inFreshNode(['--heap-growing-percent=50']).returned).toEqual([null, null]);
    expect(inFreshNode(['--heap_growing_percent=50']).returned).toEqual([null, null]);
  });
});
