/**
 * `vigil verify <run-dir>`: the ledger of a run rebuilt from its journal.jsonl alone — a run that
 * crashed, or was killed — by the judge a live run uses (verify/rebuild.ts). Writes run.json,
 * junit.xml and report.html marked `rebuilt`, or run.rebuilt.json beside the run's own run.json
 * (which is never overwritten). Exit 0 PASS (the journal covers the whole run and everything was
 * judged), 1 FAIL (a failure, or a run that did not finish), 2 no readable journal.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../protocol/errors.ts';
import { junitXml } from '../reports/junit.ts';
import { writeHtmlReport } from '../reports/html/write-report.ts';
import { rebuiltRunResult } from '../reports/rebuilt-result.ts';
import { summaryText } from '../reports/summary.ts';
import { readJournal } from '../verify/journal-read.ts';
import { rebuildFromJournal } from '../verify/rebuild.ts';

export async function verifyCommand(runDir: string, print: (line: string) => void): Promise<number> {
  if (!existsSync(runDir)) throw new VigilError('VIGIL_RUN_NOT_FOUND', `no run directory at ${runDir}`, 'give the runs/<run-id> folder a `vigil run` wrote (ls runs/)');
  const journal = await readJournal(join(runDir, 'journal.jsonl'));
  const rebuilt = rebuildFromJournal(journal);
  const result = rebuiltRunResult(journal, rebuilt);
  const r = result.rebuilt!;
  print(r.runEnded ? `the run ended at ${r.to}: the journal covers ${r.from} → ${r.to}` : `the journal stops at ${r.to}: the run did not finish; the ledger covers ${r.from} → ${r.to}`);
  if (!r.runEnded) print(`${r.pending} expected alarms were pending at the crash (unknown, not dropped); ${r.unmatched} observed alarms matched no expectation journaled yet (not spurious)`);
  if (journal.badLines > 0) print(`note: ${journal.badLines} journal line${journal.badLines === 1 ? '' : 's'} could not be read${journal.tornTail ? ' (the last one torn by the crash)' : ''} and ${journal.badLines === 1 ? 'is' : 'are'} left out`);
  for (const o of r.omitted) print(`not rebuilt: ${o}`);

  if (existsSync(join(runDir, 'run.json'))) {
    // The run's own verdict stays; the rebuilt one goes beside it.
    const file = join(runDir, 'run.rebuilt.json');
    writeFileSync(file, JSON.stringify(result, null, 2));
    print(summaryText(result, runDir).replace(/\nreport: .*$/, ''));
    print(`rebuilt from the journal: ${file} (the run's own run.json is left as it was)`);
  } else {
    writeFileSync(join(runDir, 'run.json'), JSON.stringify(result, null, 2));
    writeFileSync(join(runDir, 'junit.xml'), junitXml(result));
    try {
      writeHtmlReport(runDir);
    } catch (err) {
      print(`report.html not written: ${(err as Error).message}`);
    }
    print(summaryText(result, runDir));
    print('rebuilt from the journal (run.json "rebuilt")');
  }
  return result.verdict === 'PASS' ? 0 : 1;
}
