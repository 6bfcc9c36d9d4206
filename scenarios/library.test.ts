/** Every scenario of the library loads, validates, and its faults resolve against its fleet (a typo fails here, not in a user's run). */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.ts';
import { provisionRun } from './runner/provision.ts';
import { isProcessFault } from './schema.ts';

const files = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.scenario.ts'));

describe('the scenario library', () => {
  it('has the replays and rehearsals', () => {
    expect(files).toEqual(expect.arrayContaining(['smoke.scenario.ts', 'fr-2021-10-25.scenario.ts', 'nl-2018-tele2.scenario.ts']));
  });

  it.each(files)('%s loads and provisions', async (file) => {
    const loaded = await loadScenario(`scenarios/${file}`);
    // A small fleet of the same mix: the plan and fault targets are checked without planning 15,000 wearers.
    const small = { ...loaded.scenario, mix: { pse: Math.min(loaded.scenario.mix.pse, 20), psem: Math.min(loaded.scenario.mix.psem, 20), bar: Math.min(loaded.scenario.mix.bar, 4) } };
    const run = provisionRun(small, file);
    expect(run.fleet.devices.length).toBeGreaterThan(0);
    // Network faults are resolved against the fleet; process faults hit the whole system.
    expect(run.faults).toHaveLength(loaded.scenario.faults.filter((f) => !isProcessFault(f)).length);
  });
});
