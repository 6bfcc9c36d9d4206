/**
 * Issue 7 item 5, "done when": `--observe` verifies a run whose load came from elsewhere — here a
 * second Vigil process with --devices-only, on the clock and broker the observer printed. The
 * observer expects, from the seed alone, exactly what a normal run of the same scenario expects
 * (compared alarm by alarm through both journals), and sees every one of them; with no load at
 * all it FAILs, every expected alarm dropped — it does not pass by itself. Its progress and its
 * dashboard are a normal run's, saying unknown for what an observer cannot see.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { DashboardMessage } from '../../reports/dashboard/live-state.ts';
import { expectCleanPass, expectedKeys, tempDir, vigil, writeScenario, type CliResult } from '../support/cli.ts';

// 32 devices of every type for 30 virtual minutes at speed 120 (15 s of timeline; an SLA of 4
// minutes is 2 real seconds), behaviour scaled up so that 31 wearers make alarms of several kinds.
const scenario = {
  name: 'observed', seed: 2021, speed: 120, start: '2021-10-25T14:00:00+02:00', duration: '30m',
  fleet: { psem: 20, pse: 10, bar: 1 }, behaviour: { scale: 40 }, drain: '5m',
};

/**
 * Starts an observer and resolves with its `clock:` and `broker:` lines once it printed them.
 * `dashboard`: called with the URL of its --dashboard, once printed.
 */
function observe(file: string, out: string, lead: number, extra: readonly string[] = [], dashboard?: (url: string) => void): { handoff: Promise<{ clock: string; broker: string }>; done: Promise<CliResult> } {
  let found: (v: { clock: string; broker: string }) => void = () => undefined;
  const handoff = new Promise<{ clock: string; broker: string }>((resolve) => (found = resolve));
  let url: string | undefined;
  const done = vigil(['run', file, '--observe', '--lead', String(lead), '--out', out, ...extra], {
    onStdout: (s) => {
      const clock = /^clock: (\{.*\})$/m.exec(s)?.[1];
      const broker = /^broker: (\S+)$/m.exec(s)?.[1];
      if (clock && broker) found({ clock, broker });
      const printed = /^dashboard: (\S+)$/m.exec(s)?.[1];
      if (printed && url === undefined) dashboard?.((url = printed));
    },
  });
  return { handoff, done };
}

/** A browser's view of a dashboard, without the browser (report.test.ts opens one in Chromium): every message it sends. */
function listen(url: string, into: DashboardMessage[]): void {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}live`);
  ws.on('message', (d) => into.push(JSON.parse(String(d)) as DashboardMessage));
  ws.on('error', () => {});
}

describe.concurrent('observe mode', () => {
  const dir = tempDir();
  const file = writeScenario(dir, 'observed', scenario);

  it('verifies a load made by a second Vigil process: PASS, expecting alarm by alarm what a normal run expects', async () => {
    // The normal run of the same scenario runs alongside, as the reference for what is expected.
    const normal = vigil(['run', file, '--out', join(dir, 'normal')]);
    // Its progress (every 2 s here) and its dashboard, as a normal run's, with what it cannot see unknown.
    const live: DashboardMessage[] = [];
    const observer = observe(file, join(dir, 'observe'), 8, ['--progress', '2', '--dashboard', '0'], (url) => listen(url, live));
    const { clock, broker } = await Promise.race([
      observer.handoff,
      observer.done.then((r) => Promise.reject(new Error(`the observer ended before the hand-off:\n${r.stdout}\n${r.stderr}`))),
    ]);
    expect(JSON.parse(clock)).toMatchObject({ startVirtual: Date.parse(scenario.start), speed: 120 });
    const load = await vigil(['run', file, '--devices-only', '--clock', clock, '--broker', broker]);
    expect(load.code, load.stdout + load.stderr).toBe(0);
    const o = await observer.done;
    const run = expectCleanPass(o);
    expect(run.mode).toBe('observe');
    expect(run.ledger.expected).toBeGreaterThan(0);
    expect(run.ledger.onTime).toBe(run.ledger.expected);
    expect(Object.values(run.perKind).filter((k) => k.expected > 0).length).toBeGreaterThanOrEqual(3);
    // The load sent exactly the records the seed says; the pipeline stored them all.
    const sent = /^sent: (\d+) records from 32 devices/m.exec(load.stdout);
    expect(Number(sent?.[1]), load.stdout).toBe(run.fleet.records);
    expect(run.completeness).toMatchObject({ recordsMade: run.fleet.records, recordsMissing: 0 });
    expect(run.observe?.unknown).toContain('ackedSeq');
    expect(o.stdout).toMatch(/^observe mode: the load came from elsewhere; unknown to this run: ackedSeq/m);
    // The hand-off is on disk too, and the printed load command names it.
    expect(readFileSync(join(o.runDir!, 'clock.json'), 'utf8').trim()).toBe(clock);
    expect(o.stdout).toContain(`--devices-only --clock-file ${join(o.runDir!, 'clock.json')} --broker ${broker}`);
    expect(o.stdout).toMatch(/^\d+%  virtual .*  \|  unknown msg\/s  \|  devices unknown\/32 connected  \|  unknown unacked  \|  harness unknown$/m);
    expect(o.stdout).toMatch(/^drain  virtual .*  \|  alarms \d+ expected, \d+ detected/m);
    const samples = live.filter((m) => m.type === 'live');
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((m) => m.numbers['msg-per-s'] === null && m.numbers['connected'] === null && m.numbers['unacked'] === null)).toBe(true);
    expect(live.at(-1)).toMatchObject({ type: 'final', final: { verdict: 'PASS', ledger: run.ledger } });

    const n = await normal;
    expect(n.run, n.stdout + n.stderr).toBeDefined();
    expect(run.ledger.expected).toBe(n.run!.ledger.expected);
    expect(expectedKeys(o.runDir!)).toEqual(expectedKeys(n.runDir!));
  });

  it('with no load FAILs: every expected alarm dropped and no record stored', async () => {
    const o = await observe(file, join(dir, 'idle'), 1).done;
    const run = o.run!;
    expect(run, o.stdout + o.stderr).toBeDefined();
    expect(o.code).toBe(1);
    expect(run.verdict).toBe('FAIL');
    expect(run.ledger.expected).toBeGreaterThan(0);
    expect(run.ledger.dropped).toBe(run.ledger.expected);
    expect(run.completeness.recordsStored).toBe(0);
    expect(run.checks.find((c) => c.name === 'no dropped alarms')?.passed).toBe(false);
    expect(o.stdout).toMatch(/FAILED no dropped alarms/);
  });

  it('refuses what it cannot do with exit 2 and one line: both modes at once, a fault it cannot inject', async () => {
    const both = await vigil(['run', file, '--observe', '--devices-only', '--clock', '{}', '--broker', 'mqtt://127.0.0.1:9']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toMatch(/^vigil: --observe and --devices-only exclude each other: .* \[VIGIL_USAGE\]$/);
    const faulted = writeScenario(dir, 'faulted', { ...scenario, name: 'faulted', faults: [{ name: 'cut', kind: 'partition', from: '+5m', until: '+10m' }] });
    const r = await vigil(['run', faulted, '--observe', '--out', join(dir, 'faulted')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^vigil: scenario faulted\.scenario\.ts: faults\.0 "cut" \(partition\) cannot run with --observe: network faults are injected by Vigil's operator proxies/);
  });
});
