/**
 * Loads a `*.scenario.ts` file (the CLI runs under tsx, so TypeScript imports directly), applies
 * command-line overrides, and validates — all before anything connects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VigilError } from '../protocol/errors.ts';
import { validateScenario, type Scenario } from './schema.ts';
import { scaleMix } from '../sim/model/fleet-plan.ts';

export interface ScenarioOverrides {
  readonly speed?: number | undefined;
  readonly devices?: number | undefined;
  readonly seed?: number | undefined;
  readonly firmware?: string | undefined;
  /** `--hil`: real devices added to the scenario's `hil` section (role psem, gateway mode), as match texts. */
  readonly hil?: readonly string[] | undefined;
}

export interface LoadedScenario {
  readonly file: string;
  /** sha256 of the file's bytes: a report names exactly what ran. */
  readonly sha256: string;
  readonly scenario: Scenario;
}

export async function loadScenario(path: string, overrides: ScenarioOverrides = {}): Promise<LoadedScenario> {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new VigilError('VIGIL_SCENARIO_NOT_FOUND', `scenario file not found: ${path}`, 'check the path (the library is in scenarios/*.scenario.ts)');
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    const why = (err as Error).message.split('\n')[0] ?? '';
    // Node loads a .ts file outside an ESM package as CommonJS, which cannot import Vigil's ESM.
    const fix = /require\(\) ES Module|require\(esm\)/.test(why)
      ? 'put the scenario in a folder whose package.json says "type": "module" (as this repository does), or name it *.scenario.mts'
      : 'fix the error in the file';
    throw new VigilError('VIGIL_SCENARIO_INVALID', `scenario ${basename(file)} does not load: ${why.slice(0, 200)}`, fix);
  }
  if (typeof mod.default !== 'object' || mod.default === null) {
    throw new VigilError('VIGIL_SCENARIO_INVALID', `scenario ${basename(file)} has no default export`, 'end the file with `export default defineScenario({ … })`');
  }
  const input = { ...(mod.default as Record<string, unknown>) };
  if (overrides.speed !== undefined) input.speed = overrides.speed;
  if (overrides.seed !== undefined) input.seed = overrides.seed;
  if (overrides.firmware !== undefined) input.firmware = overrides.firmware;
  if (overrides.hil !== undefined && overrides.hil.length > 0) {
    input.hil = [...(Array.isArray(input.hil) ? (input.hil as unknown[]) : []), ...overrides.hil.map((device) => ({ device }))];
  }
  const r = validateScenario(input);
  if (!r.ok) {
    const p = r.problems[0] as (typeof r.problems)[number];
    const more = r.problems.length > 1 ? ` (and ${r.problems.length - 1} more problem${r.problems.length > 2 ? 's' : ''})` : '';
    throw new VigilError(
      'VIGIL_SCENARIO_INVALID',
      `scenario ${basename(file)}: ${p.path}: ${p.message}, got ${JSON.stringify(p.value) ?? 'nothing'}${more}`,
      `fix ${p.path} in ${path} (or the flag that overrides it)`,
    );
  }
  // --devices N scales the scenario's mix proportionally, keeping one of each type it has.
  const scenario = overrides.devices === undefined ? r.scenario : { ...r.scenario, mix: scaleMix(r.scenario.mix, overrides.devices) };
  return { file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex'), scenario };
}
