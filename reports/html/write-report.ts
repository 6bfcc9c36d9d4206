/** report.html next to run.json: written at the end of every run, and again by `vigil report <run-dir>`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReport } from './render-report.ts';
import { readRunDir } from '../run-dir.ts';

export const REPORT_FILE = 'report.html';

/** Reads the run directory (or its run.json) and writes its report.html; returns the file and what could not be drawn. */
export function writeHtmlReport(runDir: string): { readonly file: string; readonly notes: readonly string[] } {
  const dir = readRunDir(runDir);
  const file = join(dir.dir, REPORT_FILE);
  writeFileSync(file, renderReport(dir));
  return { file, notes: dir.notes };
}
