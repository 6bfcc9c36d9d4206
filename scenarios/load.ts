/**
 * Loads a `*.scenario.ts` file (the CLI runs under tsx, so TypeScript imports directly), applies
 * command-line overrides, and validates — all before anything connects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { VigilError } from '../protocol/errors.ts';
import { validateScenario, type Scenario, type ScenarioProblem } from './schema.ts';
import { scaleMix } from '../sim/model/fleet-mix.ts';

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
  if (!r.ok) throw scenarioInvalid(basename(file), path, r.problems);
  // --devices N scales the scenario's mix proportionally, keeping one of each type it has.
  const scenario = overrides.devices === undefined ? r.scenario : { ...r.scenario, mix: scaleMix(r.scenario.mix, overrides.devices) };
  return { file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex'), scenario };
}

/** The one-line error for a scenario's problems: the first one's field, what was wrong, the value, and how many more. */
export function scenarioInvalid(fileName: string, path: string, problems: readonly ScenarioProblem[]): VigilError {
  const p = problems[0] as ScenarioProblem;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return new VigilError(
    'VIGIL_SCENARIO_INVALID',
    `scenario ${fileName}: ${p.path}: ${p.message}, got ${valueText(p.value)}${more}`,
    `fix ${p.path} in ${path} (or the flag that overrides it)`,
  );
}

/**
 * A field's value for an error line: its JSON (what the user wrote, in the form they know), else
 * Node's inspection — a BigInt, a cycle or a function has no JSON, and JSON.stringify would throw a
 * TypeError instead of the error that names the field (found by scenarios/schema.fuzz.test.ts).
 * Cut at 200 characters: the line names the field, it need not reprint a whole section.
 */
export function valueText(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= inspect(value, { depth: 2, breakLength: Infinity });
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
