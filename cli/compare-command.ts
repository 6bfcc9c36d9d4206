/**
 * `vigil compare <runA> <runB>`: B against its baseline A, side by side in the terminal (and as HTML
 * with --html). Exit 0 when B is within the thresholds, 1 when it is worse, 2 when the runs cannot
 * be compared (missing or partial run directory, another schema, another scenario or seed).
 */
import { writeFileSync } from 'node:fs';
import { VigilError } from '../protocol/errors.ts';
import { readComparedRun } from '../reports/run-dir.ts';
import { compareRuns, DEFAULT_THRESHOLDS, type Thresholds } from '../reports/compare.ts';
import { compareText } from '../reports/compare-text.ts';
import { compareHtml } from '../reports/compare-html.ts';

export interface CompareFlags {
  html?: string;
  maxP99Increase?: number;
  maxNewDrops?: number;
  maxNewLate?: number;
  maxNewSpurious?: number;
  maxNewMissingRecords?: number;
  maxDetectIncrease?: number;
  maxDrainIncrease?: number;
  /** Virtual seconds. */
  slack?: number;
}

export function thresholdsOf(f: CompareFlags): Thresholds {
  const d = DEFAULT_THRESHOLDS;
  return {
    maxP99IncreasePct: f.maxP99Increase ?? d.maxP99IncreasePct,
    maxNewDrops: f.maxNewDrops ?? d.maxNewDrops,
    maxNewLate: f.maxNewLate ?? d.maxNewLate,
    maxNewSpurious: f.maxNewSpurious ?? d.maxNewSpurious,
    maxNewMissingRecords: f.maxNewMissingRecords ?? d.maxNewMissingRecords,
    maxDetectIncreasePct: f.maxDetectIncrease ?? d.maxDetectIncreasePct,
    maxDrainIncreasePct: f.maxDrainIncrease ?? d.maxDrainIncreasePct,
    slackMs: f.slack !== undefined ? f.slack * 1000 : d.slackMs,
  };
}

export function compareCommand(runA: string, runB: string, flags: CompareFlags, print: (text: string) => void): number {
  const comparison = compareRuns(readComparedRun(runA, 'A'), readComparedRun(runB, 'B'), thresholdsOf(flags));
  print(compareText(comparison));
  if (flags.html !== undefined) {
    try {
      writeFileSync(flags.html, compareHtml(comparison));
    } catch (err) {
      throw new VigilError('VIGIL_USAGE', `--html ${flags.html}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'give a file in a folder that exists and you may write to');
    }
    print(`html: ${flags.html}`);
  }
  return comparison.worse.length === 0 ? 0 : 1;
}
