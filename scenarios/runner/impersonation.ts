/**
 * The impersonation step of a run with `isolation: { impostors: n }` (issue 8 item 2): at the end of
 * the timeline, n devices each publish forged records on another device's uplink topic
 * (sim/impostor.ts); after the final read, each attempt is judged from the pipeline's ingest summary
 * — the victim's highest stored seq must stay below the impostor's seqs. That is the signal, not the
 * broker's answer: mosquitto 2 acknowledges a refused MQTT 3.1.1 publish and drops it, aedes closes
 * the connection, and a broker without isolation delivers it. An impostor record stored fails the
 * run (a "device isolation" check), and its forged tamper alarms show as spurious in the ledger.
 */
import type { IngestSummary } from '../../protocol/provisioning.ts';
import type { IsolationStats } from '../../sim/broker-policy.ts';
import { impersonate, impostorStored, type ImpersonationAttempt } from '../../sim/impostor.ts';
import type { DeviceLogin } from '../../sim/transport/link.ts';
import type { Judgement } from '../../verify/judge.ts';
import type { Check } from '../../verify/verdict.ts';

export interface JudgedAttempt extends ImpersonationAttempt {
  /** Whether any of the impostor's seqs is stored for the victim. */
  readonly stored: boolean;
}

/** run.json `isolation`. */
export interface IsolationReport {
  readonly attempts: readonly JudgedAttempt[];
  /** What the embedded broker's policy refused (sim/broker-policy.ts); null with an external broker. */
  readonly brokerRefused: Readonly<IsolationStats> | null;
  /** How a refusal is told, for the reader of run.json. */
  readonly signal: string;
}

export const REFUSAL_SIGNAL = 'the victim\'s highest stored seq in the pipeline\'s ingest summary stays below the impostor\'s seqs (the broker\'s PUBACK or connection close is only a hint)';

/** Device 2k impersonates device 2k+1, for k < impostors (as many pairs as the fleet has). */
export function impostorPairs(deviceIds: readonly string[], impostors: number): { impostor: string; victim: string }[] {
  const n = Math.min(impostors, Math.floor(deviceIds.length / 2));
  return Array.from({ length: n }, (_, k) => ({ impostor: deviceIds[2 * k] as string, victim: deviceIds[2 * k + 1] as string }));
}

export async function runImpostors(o: { brokerUrl: string; login: DeviceLogin; deviceIds: readonly string[]; impostors: number; time: number; log: (line: string) => void }): Promise<ImpersonationAttempt[]> {
  const attempts: ImpersonationAttempt[] = [];
  for (const pair of impostorPairs(o.deviceIds, o.impostors)) {
    const a = await impersonate({ brokerUrl: o.brokerUrl, ...pair, login: o.login, time: o.time });
    o.log(`impersonation: ${a.impostor} published as ${a.victim} (seqs ${a.seqs[0]}–${a.seqs[1]}): the broker's answer: ${a.outcome}`);
    attempts.push(a);
  }
  return attempts;
}

export function judgeImpersonation(attempts: readonly ImpersonationAttempt[], summary: IngestSummary, brokerRefused: Readonly<IsolationStats> | null): { report: IsolationReport; check: Check } {
  const judged = attempts.map((a) => ({ ...a, stored: impostorStored(summary.devices[a.victim]?.maxSeq) }));
  const stored = judged.filter((a) => a.stored);
  const refusedByBroker = brokerRefused ? `; the embedded broker refused ${brokerRefused.refusedPublishes} publish${brokerRefused.refusedPublishes === 1 ? '' : 'es'}, ${brokerRefused.refusedLogins} login${brokerRefused.refusedLogins === 1 ? '' : 's'}, ${brokerRefused.refusedSubscriptions} subscription${brokerRefused.refusedSubscriptions === 1 ? '' : 's'}` : '';
  return {
    report: { attempts: judged, brokerRefused: brokerRefused ? { ...brokerRefused } : null, signal: REFUSAL_SIGNAL },
    check: {
      name: 'device isolation',
      passed: stored.length === 0,
      summary: `${judged.length} impersonation attempt${judged.length === 1 ? '' : 's'}: ${judged.length - stored.length} refused, ${stored.length} stored for the victim${refusedByBroker}`,
      items: stored.map((a) => `${a.impostor} published as ${a.victim}: seqs ${a.seqs[0]}–${a.seqs[1]} stored for ${a.victim}`),
    },
  };
}

/** The judgement with the isolation check added: a failed check fails the run. */
export function withIsolationCheck(j: Judgement, check: Check): Judgement {
  return { ...j, checks: [...j.checks, check], verdict: check.passed ? j.verdict : 'FAIL' };
}
