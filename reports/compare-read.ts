/**
 * Reads a run for `vigil compare`: its run.json, checked for the schema version this Vigil writes and
 * for every field a comparison reads, so a missing, partial or older run directory is named with
 * what is wrong and what to do — never a stack trace, never a comparison of half a run.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { VigilError } from '../protocol/errors.ts';
import { SCHEMA_VERSION } from './run-result.ts';

const count = z.number().int().min(0);
const ms = z.number().min(0);
const Counts = z.object({ expected: count, onTime: count, late: count, lateAllowed: count, dropped: count, duplicates: count, spurious: count });
const Latency = z.object({ count, p50: ms, p95: ms, p99: ms, max: ms, slaMs: ms });

/** The part of run.json (reports/run-result.ts) a comparison reads; RunResult is assignable to it. */
export const ComparedRun = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: z.string(),
  vigilVersion: z.string(),
  scenario: z.object({ name: z.string(), sha256: z.string(), seed: z.number(), speed: z.number(), devices: count, start: z.string(), end: z.string() }),
  mode: z.literal('observe').optional(),
  broker: z.object({ kind: z.string(), url: z.string() }),
  pipeline: z.object({ kind: z.string(), url: z.string(), server: z.string().optional() }),
  startedAt: z.string(),
  verdict: z.enum(['PASS', 'FAIL']),
  ledger: Counts,
  latencyMs: z.record(z.string(), Latency),
  latencyUnderFaultMs: z.record(z.string(), Latency),
  completeness: z.object({ recordsMade: count, recordsStored: count, recordsMissing: count }),
  faults: z.array(z.object({
    name: z.string(),
    kind: z.string(),
    absence: z.object({ required: count, onTime: count, late: count, missing: count }),
    timeToDetectMs: ms.nullable(),
    drainMs: ms.nullable(),
  })).readonly(),
  firmware: z.unknown(),
});
export type ComparedRun = z.infer<typeof ComparedRun>;

/** A run directory (runs/<run-id>) or its run.json; `which` (A or B) names it in errors. */
export function readComparedRun(path: string, which: 'A' | 'B'): ComparedRun {
  const where = `run ${which} (${path})`;
  if (!existsSync(path)) {
    throw new VigilError('VIGIL_RUN_NOT_FOUND', `${where}: no such directory`, 'give the runs/<run-id> directory that `vigil run` printed on its `report:` line, or its run.json');
  }
  const file = statSync(path).isDirectory() ? join(path, 'run.json') : path;
  if (!existsSync(file)) {
    const journal = existsSync(join(path, 'journal.jsonl'));
    throw new VigilError('VIGIL_RUN_INVALID', `${where} has no run.json${journal ? ' (only a journal: the run did not finish)' : ' (is it a run directory?)'}`, journal ? 'run the scenario again to completion: a comparison needs the verdict and the ledger run.json holds' : 'give the runs/<run-id> directory that `vigil run` printed on its `report:` line');
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_RUN_INVALID', `${where}: ${file} is not JSON (${(err as Error).message}); it was cut short or edited`, 'run the scenario again to get a whole run.json');
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== SCHEMA_VERSION) {
    throw new VigilError('VIGIL_RUN_INVALID', `${where}: run.json has schema version ${JSON.stringify(version) ?? 'none'}, and this Vigil reads version ${SCHEMA_VERSION}`, 'run the scenario again with this Vigil (same --seed), or compare with the Vigil that wrote it');
  }
  const parsed = ComparedRun.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new VigilError('VIGIL_RUN_INVALID', `${where}: run.json is missing or has wrong fields (${problems})`, 'run the scenario again to get a whole run.json; an edited or truncated one cannot be compared');
  }
  return parsed.data;
}
