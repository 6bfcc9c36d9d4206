import { expect, it } from 'vitest';
import { IMPOSTOR_SEQ_BASE, type ImpersonationAttempt } from '../../sim/impostor.ts';
import { impostorPairs, judgeImpersonation, withIsolationCheck } from './impersonation.ts';
import type { Judgement } from '../../verify/judge.ts';

const attempt = (impostor: string, victim: string): ImpersonationAttempt => ({ impostor, victim, seqs: [IMPOSTOR_SEQ_BASE, IMPOSTOR_SEQ_BASE + 2], outcome: 'puback' });
const ingest = (maxSeq: number) => ({ contiguousSeq: Math.min(maxSeq, 40), maxSeq, stored: 40, gaps: [] });

it('pairs device 2k with 2k+1, as many pairs as the fleet has', () => {
  expect(impostorPairs(['a', 'b', 'c', 'd', 'e'], 5)).toEqual([{ impostor: 'a', victim: 'b' }, { impostor: 'c', victim: 'd' }]);
  expect(impostorPairs(['a', 'b', 'c', 'd'], 1)).toEqual([{ impostor: 'a', victim: 'b' }]);
});

it('judges each attempt from the victim\'s highest stored seq, not the broker\'s answer', () => {
  const summary = { runId: 'r', devices: { b: ingest(40), d: ingest(IMPOSTOR_SEQ_BASE + 2) } };
  const { report, check } = judgeImpersonation([attempt('a', 'b'), attempt('c', 'd')], summary, null);
  expect(report.attempts.map((a) => a.stored)).toEqual([false, true]);
  expect(check).toEqual({
    name: 'device isolation', passed: false,
    summary: '2 impersonation attempts: 1 refused, 1 stored for the victim',
    items: [`c published as d: seqs ${IMPOSTOR_SEQ_BASE}–${IMPOSTOR_SEQ_BASE + 2} stored for d`],
  });
  const passing = judgeImpersonation([attempt('a', 'b')], summary, { refusedLogins: 0, refusedPublishes: 1, refusedSubscriptions: 0 });
  expect(passing.check.passed).toBe(true);
  expect(passing.check.summary).toBe('1 impersonation attempt: 1 refused, 0 stored for the victim; the embedded broker refused 1 publish, 0 logins, 0 subscriptions');
});

it('fails a passing run when an impostor got through, and leaves the verdict otherwise', () => {
  const j = { verdict: 'PASS', checks: [] } as unknown as Judgement;
  const failed = { name: 'device isolation', passed: false, summary: '', items: [] };
  expect(withIsolationCheck(j, failed).verdict).toBe('FAIL');
  expect(withIsolationCheck(j, { ...failed, passed: true }).verdict).toBe('PASS');
  expect(withIsolationCheck(j, failed).checks).toEqual([failed]);
});
