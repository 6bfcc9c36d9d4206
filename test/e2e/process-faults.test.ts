/**
 * Issue 4, process faults: the reference pipeline killed with SIGKILL mid-run and started again on
 * the same data, and the embedded broker closed abruptly and started again on the same port. With
 * store-and-forward firmware nothing is lost: no alarm dropped, every position stored, and the
 * alarms due while the process was down arrive within the late allowance after it came back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, vigil, writeScenario } from '../support/cli.ts';

const FROM = '+20m';
const UNTIL = '+35m';

async function runWith(kind: 'pipeline-restart' | 'broker-restart', until = UNTIL) {
  const dir = tempDir();
  // 30 wearers with every rate × 30: about 15 alarms due in a 15-minute window, which is longer
  // than the 10-minute offline timeout.
  const file = writeScenario(dir, kind, {
    name: kind, seed: 4, speed: 120, duration: '60m', drain: '10m', fleet: { psem: 30 },
    behaviour: { scale: 30 }, firmware: 'store-and-forward',
    faults: [{ kind, name: 'restart', from: FROM, until }],
  });
  const r = await vigil(['run', file, '--out', dir], { timeoutMs: 120_000 });
  const out = r.stdout + r.stderr;
  const run = r.run!;
  expect(run, out).toBeDefined();
  const journal = readFileSync(join(r.runDir!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = journal.filter((e) => e.t === 'fault');
  return { r, out, run, events };
}

describe('process faults that cannot run stop the run before anything starts', () => {
  const window = { from: '+10m', until: '+20m' };
  const cases: [string, Record<string, unknown>, string[], RegExp][] = [
    ['a target on a process fault', { kind: 'pipeline-restart', ...window, target: { deviceType: 'psem' } }, [],
      /faults\.0\.target: a pipeline-restart fault hits the whole system, not chosen devices: remove target/],
    ['pipeline-restart with --pipeline', { kind: 'pipeline-restart', ...window }, ['--pipeline', 'http://127.0.0.1:9'],
      /faults\.0\.kind: pipeline-restart kills and restarts the reference pipeline, but this run uses the pipeline at http:\/\/127\.0\.0\.1:9: Vigil cannot kill an external pipeline — drop --pipeline/],
    ['broker-restart with --broker', { kind: 'broker-restart', ...window }, ['--broker', 'mqtt://127.0.0.1:9'],
      /faults\.0\.kind: broker-restart kills and restarts a broker Vigil runs, but this run uses the broker at mqtt:\/\/127\.0\.0\.1:9: Vigil cannot kill an external broker — drop --broker to run on the embedded broker, or use --mosquitto/],
  ];
  it.each(cases)('%s', async (_name, fault, flags, message) => {
    const dir = tempDir();
    const file = writeScenario(dir, 'bad-process-fault', { name: 'bad-process-fault', duration: '1h', fleet: { psem: 2 }, faults: [fault] });
    const r = await vigil(['run', file, ...flags, '--out', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/^run /m);
  });
});

// Three runs of their own (each its own broker and pipeline, 20–30 devices): side by side, not one after
// the other — they wait on virtual time far more than they use the CPU (npm test's time budget).
describe.concurrent('process faults on the timeline', () => {
  it('pipeline kill -9 and restart on the same data: nothing lost, PASS', async () => {
    // Half an hour down: the devices' send windows fill with no ack coming and what the network
    // forwards goes silent for longer than the offline timeout. The restarted pipeline counts no
    // silence from before it started watching (RULES.md "Watching since"), and nor must the oracle:
    // at ca7e819 a restart slow under CI's load left the same silence, and the oracle wanted 14
    // communication_loss alarms the pipeline rightly never raised.
    const { r, out, run, events } = await runWith('pipeline-restart', '+50m');
    expect(r.code, out).toBe(0);
    expect(run.verdict).toBe('PASS');
    expect(run.ledger).toMatchObject({ dropped: 0, duplicates: 0, spurious: 0 });
    expect(run.completeness.recordsMissing, out).toBe(0);
    expect(events.map((e) => [e.event, e.fault, e.kind])).toEqual([['start', 'restart', 'pipeline-restart'], ['heal', 'restart', 'pipeline-restart']]);
    const [start, heal] = events as [{ at: number }, { at: number }];
    const from = Date.parse('2021-10-25T14:20:00+02:00');
    expect(start.at).toBeGreaterThanOrEqual(from);
    expect(heal.at).toBeGreaterThanOrEqual(from + 30 * 60_000);
    // The new process said when it started watching: after the kill, by the heal.
    const { watchingFrom } = heal as { watchingFrom?: number };
    expect(watchingFrom).toBeGreaterThanOrEqual(from + 30 * 60_000);
    expect(watchingFrom).toBeLessThanOrEqual(heal.at);
    expect(run.faults).toHaveLength(1);
    expect(run.faults[0]).toMatchObject({ name: 'restart', kind: 'pipeline-restart', from: new Date(from).toISOString(), devices: 30 });
    // The test can fail: alarms were due while the pipeline was down, and they all came.
    expect(run.faults[0]!.alarms?.expected ?? 0, out).toBeGreaterThan(0);
    expect(run.faults[0]!.alarms?.dropped).toBe(0);
    // The harness's feed connection went down with the pipeline and resumed from its cursor.
    expect(run.feed.disconnects).toBeGreaterThanOrEqual(1);
    // The devices kept talking into the broker: a restarted pipeline raises no communication_loss
    // for the silence it did not watch (RULES.md "Watching since"), and none is expected.
    expect(run.faults[0]!.absence).toMatchObject({ required: 0, missing: 0 });
    expect(run.perKind.communication_loss?.spurious ?? 0).toBe(0);
  }, 120_000);

  it('embedded broker killed and restarted on the same port: nothing lost, PASS', async () => {
    const { r, out, run, events } = await runWith('broker-restart');
    expect(r.code, out).toBe(0);
    expect(run.verdict).toBe('PASS');
    expect(run.ledger).toMatchObject({ dropped: 0, duplicates: 0, spurious: 0 });
    expect(run.completeness.recordsMissing, out).toBe(0);
    expect(events.map((e) => [e.event, e.fault, e.kind])).toEqual([['start', 'restart', 'broker-restart'], ['heal', 'restart', 'broker-restart']]);
    expect(run.faults).toHaveLength(1);
    expect(run.faults[0]).toMatchObject({ name: 'restart', kind: 'broker-restart', devices: 30 });
    expect(run.faults[0]!.alarms?.expected ?? 0, out).toBeGreaterThan(0);
    expect(run.faults[0]!.alarms?.dropped).toBe(0);
    // Every device lost its connection and came back.
    expect(run.fleet.disconnects).toBeGreaterThanOrEqual(30);
    // A quarter of an hour without a broker: every device still reporting owes its communication_loss,
    // and the operator its mass alarm, each within its SLA.
    const abs = run.faults[0]!.absence;
    expect(abs.required, out).toBeGreaterThanOrEqual(25);
    expect(abs).toMatchObject({ onTime: abs.required, missing: 0, late: 0 });
    expect(run.absence.mass.map((m) => [m.status, m.recovery])).toEqual([['on_time', 'on_time']]);
  }, 120_000);

  it('the pipeline loses every alarm for a while (BI 2010, alarm-id-overflow): FAIL, each missed alarm named', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'overflow', {
      name: 'overflow', seed: 4, speed: 120, duration: '60m', fleet: { psem: 20 }, behaviour: { scale: 30 },
      faults: [{ kind: 'alarm-id-overflow', name: 'overflow', from: '+20m', until: '+40m' }],
    });
    const r = await vigil(['run', file, '--out', dir], { timeoutMs: 120_000 });
    const run = r.run!;
    expect(run, r.stdout + r.stderr).toBeDefined();
    expect(r.code, r.stdout).toBe(1);
    expect(run.verdict).toBe('FAIL');
    const dropped = run.failures.filter((f) => f.status === 'dropped');
    expect(dropped.length, r.stdout).toBeGreaterThan(0);
    // Every missed alarm was due while the pipeline was losing them, and is named in the window.
    const from = Date.parse('2021-10-25T14:20:00+02:00');
    const until = Date.parse('2021-10-25T14:40:00+02:00');
    for (const d of dropped) {
      expect(d.triggerTime).toBeGreaterThanOrEqual(from - 5 * 60_000);
      expect(d.triggerTime).toBeLessThanOrEqual(until);
      expect(d.faults).toEqual(['overflow']);
    }
    expect(run.faults[0]).toMatchObject({ name: 'overflow', kind: 'alarm-id-overflow' });
    expect(run.faults[0]!.alarms?.dropped).toBe(dropped.length);
    // Nothing else was lost: the records are all stored.
    expect(run.completeness.recordsMissing).toBe(0);
  }, 120_000);
});
