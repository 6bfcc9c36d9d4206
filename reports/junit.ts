/** junit.xml: one testcase per check, a failure element naming every failing item. */
import type { RunResult } from './run-result.ts';
import { harnessCaveat } from './summary.ts';

function esc(s: string): string {
  // XML 1.0 forbids most control characters even escaped; drop them.
   
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function junitXml(r: RunResult): string {
  const failures = r.checks.filter((c) => !c.passed).length;
  const suite = `vigil.${r.scenario.name}`;
  // A failure while the harness was behind its clock may be the harness's: every failure says so (verify/harness-pace.ts).
  const caveat = harnessCaveat(r);
  const cases = r.checks.map((c) => {
    const head = `    <testcase classname="${esc(suite)}" name="${esc(c.name)}">`;
    if (c.passed) return `${head}\n      <system-out>${esc(c.summary)}</system-out>\n    </testcase>`;
    const body = [c.summary, ...c.items, ...caveat].join('\n');
    return `${head}\n      <failure message="${esc(c.summary)}" type="${esc(c.name)}">${esc(body)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="vigil" tests="${r.checks.length}" failures="${failures}">`,
    `  <testsuite name="${esc(suite)}" tests="${r.checks.length}" failures="${failures}" timestamp="${esc(r.startedAt)}">`,
    '    <properties>',
    `      <property name="runId" value="${esc(r.runId)}"/>`,
    `      <property name="seed" value="${r.scenario.seed}"/>`,
    `      <property name="scenarioSha256" value="${esc(r.scenario.sha256)}"/>`,
    `      <property name="verdict" value="${r.verdict}"/>`,
    ...(r.harness ? [
      `      <property name="harnessBehindMinutes" value="${r.harness.behindMinutes}"/>`,
      `      <property name="harnessLagMaxMs" value="${Math.round(r.harness.lagMaxMs)}"/>`,
    ] : []),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
