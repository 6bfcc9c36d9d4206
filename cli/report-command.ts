/**
 * `vigil report <run-dir>`: regenerate report.html from run.json and the journal. Exit 0 when the
 * report is written (whatever the run's verdict: the report is what was asked for), 2 when the
 * directory cannot be reported on (reports/run-dir.ts: VIGIL_RUN_* errors, printed by main.ts).
 */
import { writeHtmlReport } from '../reports/html/write-report.ts';

export function reportCommand(runDir: string, print: (line: string) => void): number {
  const { file, notes } = writeHtmlReport(runDir);
  for (const note of notes) print(`note: ${note}`);
  print(`wrote ${file}`);
  return 0;
}
