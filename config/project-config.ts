/**
 * The project config, `vigil.config.ts` at the project root (the directory Vigil runs in), typed
 * by an identity `defineConfig` (as Vitest and Playwright do) and validated with zod. A missing file
 * means the defaults; a bad one stops Vigil with an error naming the field (exit 2).
 *
 *     import { defineConfig } from './config/project-config.ts';
 *     export default defineConfig({ targets: { allow: ['staging-broker.example', '10.1.2.3'] } });
 *
 * `targets.allow`: the hosts, besides loopback, Vigil may send load and inject faults toward
 * (config/allow-list.ts says how entries match; docs/SAFETY.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { VigilError } from '../protocol/errors.ts';
import { allowEntryProblem } from './allow-list.ts';

export const CONFIG_FILE_NAME = 'vigil.config.ts';

const allowEntry = z.string().superRefine((entry, ctx) => {
  const problem = allowEntryProblem(entry);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const ProjectConfigSchema = z.strictObject({
  targets: z.strictObject({
    /** Hosts besides loopback that Vigil may load: names, IP addresses, CIDR ranges. */
    allow: z.array(allowEntry).default([]),
  }).prefault({}),
});

export type ProjectConfigInput = z.input<typeof ProjectConfigSchema>;
export type ProjectConfig = z.output<typeof ProjectConfigSchema>;

export function defineConfig(config: ProjectConfigInput): ProjectConfigInput {
  return config;
}

export interface LoadedProjectConfig {
  /** The file it came from; undefined when there is none (the defaults). */
  readonly file: string | undefined;
  /** Where the file is or would be: what an error tells the user to edit. */
  readonly path: string;
  readonly config: ProjectConfig;
}

/** Validates a config file's default export; throws VIGIL_CONFIG_INVALID naming the field, its value and the fix. */
export function validateProjectConfig(input: unknown, file: string): ProjectConfig {
  const r = ProjectConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0] as z.core.$ZodIssue;
  const field = issue.path.join('.') || '(config)';
  let value: unknown = input;
  for (const k of issue.path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[k] : undefined;
  const shown = issue.code === 'custom' ? '' : `, got ${JSON.stringify(value) ?? 'nothing'}`;
  throw new VigilError('VIGIL_CONFIG_INVALID', `${file}: ${field}: ${issue.message}${shown}`, `fix ${field} in ${file} (shape: export default defineConfig({ targets: { allow: ['staging-broker.example', '10.1.2.3'] } }))`);
}

/** Reads `vigil.config.ts` in `dir`: the defaults when there is none; throws VIGIL_CONFIG_INVALID when it does not load or validate. */
export async function loadProjectConfig(dir: string = process.cwd()): Promise<LoadedProjectConfig> {
  const path = join(dir, CONFIG_FILE_NAME);
  if (!existsSync(path)) return { file: undefined, path, config: ProjectConfigSchema.parse({}) };
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (err) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${path} does not load: ${((err as Error).message.split('\n')[0] ?? '').slice(0, 200)}`, 'fix the error in the file');
  }
  if (mod.default === undefined) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${path} has no default export`, "end it with `export default defineConfig({ targets: { allow: [...] } })`");
  }
  return { file: path, path, config: validateProjectConfig(mod.default, path) };
}
