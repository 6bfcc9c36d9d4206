/**
 * Issue 5, "done when", the run side: a real pseudo-terminal pair (socat, started here), the
 * emulated reference bracelet (`vigil hil emulate`) on one end and a run with it on the other. The
 * emulated PSEM walks into its exclusion zone and is tampered with; its alarms are in run.json,
 * marked `hil`, alongside 20 virtual devices, and the run PASSes. Mid-run the emulator is killed
 * (SIGKILL) once its zone alarm is expected, and started again on the same link and state file: the
 * session comes back (a reconnect counted), the tamper due after it is made, and nothing is lost —
 * every record it made by the end is stored, none twice in the oracle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectCleanPass, REPO, tempDir, VIGIL, vigil, writeScenario } from '../support/cli.ts';

const SOCAT = '/usr/bin/socat';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const until = async (what: string, cond: () => boolean, ms = 10_000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** A socat pty pair: `harness` for Vigil, `device` for the emulator. */
async function ptyPair(dir: string): Promise<{ harness: string; device: string }> {
  const harness = join(dir, 'pty-harness');
  const device = join(dir, 'pty-device');
  const socat = spawn(SOCAT, ['-d', '-d', `pty,raw,echo=0,link=${harness}`, `pty,raw,echo=0,link=${device}`], { stdio: 'ignore' });
  children.push(socat);
  await until('the pty pair', () => existsSync(harness) && existsSync(device));
  return { harness, device };
}

/** `vigil hil emulate` on the device end, its seq and outbox in `state`; resolves once it is ready. */
async function emulator(link: string, state: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [VIGIL, 'hil', 'emulate', '--link', link, '--state', state, '--serial', 'EMU-E2E'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await until(`the emulator to be ready:\n${out}`, () => /ready on/.test(out));
  return child;
}

/** The run's journal, once its directory exists. */
function journalOf(out: string): string {
  if (!existsSync(out)) return '';
  const dir = readdirSync(out)[0];
  const file = dir === undefined ? '' : join(out, dir, 'journal.jsonl');
  return file && existsSync(file) ? readFileSync(file, 'utf8') : '';
}

describe('a real device in a run (the emulator on a socat pty)', () => {
  it('enters its exclusion zone and is tampered with: its alarms are in run.json marked hil, PASS; killed and restarted mid-run, nothing is lost', async () => {
    const dir = tempDir();
    const { harness, device } = await ptyPair(dir);
    const state = join(dir, 'emulator-state.json');
    let emu = await emulator(device, state);
    // Seed 8: the real device's wearer is at home at 14:00, and 5 minutes from the zone by car
    // (inside from about +6m); the virtual fleet's rates are scaled up so that it has alarms too.
    const file = writeScenario(dir, 'hil', {
      name: 'hil', seed: 8, speed: 60, start: '2021-10-25T14:00:00+02:00', duration: '20m', drain: '5m',
      fleet: { psem: 12, pse: 8 }, behaviour: { scale: 40 },
      hil: [{
        device: harness,
        stimulus: [{ at: '+1m', enterZone: 'Z-X-HIL-PSEM-1', stay: '3m' }, { at: '+14m', tamper: true }],
      }],
    });
    const out = join(dir, 'runs');
    const running = vigil(['run', file, '--out', out], { timeoutMs: 90_000 });
    // Once the zone alarm of the real device is expected, the device dies and comes back.
    await until('the zone alarm of HIL-PSEM-1 to be expected', () => /"t":"expectation".*"deviceId":"HIL-PSEM-1".*"kind":"exclusion_zone_entry"|"kind":"exclusion_zone_entry".*"deviceId":"HIL-PSEM-1"/.test(journalOf(out)), 40_000);
    emu.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 800));
    emu = await emulator(device, state);
    const r = await running;
    emu.kill('SIGTERM');

    const run = expectCleanPass(r);
    expect(run.hil?.devices).toHaveLength(1);
    const d = run.hil!.devices[0]!;
    expect(d).toMatchObject({
      deviceId: 'HIL-PSEM-1', role: 'psem', mode: 'gateway', port: { path: harness },
      identity: { serialNumber: 'EMU-E2E', followsVirtualTime: true }, byteLog: 'hil-HIL-PSEM-1.log',
    });
    // The session came back, and the device's clock was set again after it.
    expect(d.link.reconnects).toBeGreaterThanOrEqual(1);
    expect(d.stimulus?.clockSets).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(r.runDir as string, 'hil-HIL-PSEM-1.log'))).toBe(true);
    // Its alarms, in the same ledger as the virtual fleet's, each marked.
    const kinds = run.hil!.ledger.map((e) => e.kind).sort();
    expect(kinds).toEqual(expect.arrayContaining(['exclusion_zone_entry', 'strap_tamper']));
    for (const e of run.hil!.ledger) expect(e).toMatchObject({ deviceId: 'HIL-PSEM-1', hil: true, status: 'on_time' });
    expect(run.ledger.expected).toBeGreaterThan(run.hil!.ledger.length);
    // Nothing lost: every record it made by the end is stored (completeness counts it with the fleet).
    expect(run.completeness.recordsMissing).toBe(0);
    expect(d.bridge?.records).toBeGreaterThan(10);
    // Records per minute count the real device's publishes with the virtual fleet's (run.json is
    // written a moment after the final read, and a real device goes on sending: at most its total).
    const sent = (run.records?.sent ?? []).reduce((n, x) => n + x, 0);
    expect(sent - (run.fleet.records ?? 0)).toBeGreaterThan(10);
    expect(sent - (run.fleet.records ?? 0)).toBeLessThanOrEqual(d.bridge?.recordsSent ?? 0);
  }, 120_000);

  it('a missing port stops the run before anything starts, exit 2, with the ports there are; a bad --hil is named', async () => {
    const dir = tempDir();
    const file = writeScenario(dir, 'hil-missing', { name: 'hil-missing', duration: '10m', fleet: { psem: 2 } });
    const out = join(dir, 'runs');
    const missing = await vigil(['run', file, '--hil', join(dir, 'no-such-pty'), '--out', out], { timeoutMs: 30_000 });
    expect(missing.code, missing.stdout + missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/no serial port at .*no-such-pty/);
    expect(missing.stderr).toMatch(/available ports:/);
    expect(missing.stdout).not.toMatch(/^run .*devices/m);
    expect(missing.run).toBeUndefined();
    const bad = await vigil(['run', file, '--hil', 'ttyUSB0', '--out', out], { timeoutMs: 30_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--hil: "ttyUSB0" is not a device/);
  });
});
