/**
 * The HIL path on real pseudo-terminals (issue 5): socat makes a pty pair, `vigil hil emulate`
 * runs as its own process on one end, and the session opens the other. The contract suite a real
 * device passes (test/hil) runs here against the emulator; then the emulator is killed mid-run and
 * started again on the same link, and a second program tries the port the session holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPtyPair } from '../../hil/emulator.ts';
import { openHilSession } from '../../hil/session.ts';
import { VigilError } from '../../protocol/errors.ts';
import type { EventRecord } from '../../protocol/uplink.ts';
import { REPO, VIGIL, vigil } from '../support/cli.ts';
import { hilContractSuite } from '../hil/contract-suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-hil-pty-'));
const harness = join(dir, 'harness');
const stateFile = join(dir, 'emulator-state.json');
let socat: ChildProcess | undefined;
let emulator: ChildProcess | undefined;

/** Starts `vigil hil emulate --link <device end>` and resolves once it says it is ready. */
function startEmulator(deviceEnd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [VIGIL, 'hil', 'emulate', '--link', deviceEnd, '--state', stateFile, '--serial', 'EMU-PTY-1'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('ready on')) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before it was ready:\n${out}`)));
  });
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let deviceEnd = '';
beforeAll(async () => {
  const pair = await startPtyPair(dir);
  socat = pair.socat;
  deviceEnd = pair.device;
  emulator = await startEmulator(deviceEnd);
});

afterAll(() => {
  emulator?.kill('SIGKILL');
  socat?.kill();
  rmSync(dir, { recursive: true, force: true });
});

hilContractSuite(harness);

describe('the emulator on a pty, killed and started again', () => {
  it('the session goes down and up, and the unacked records arrive again with the same seqs', async () => {
    const byteLogFile = join(dir, 'device.bytes.log');
    const session = await openHilSession({ path: harness }, { ackTimeoutMs: 200, retries: 2, keepAliveMs: 300, byteLogFile });
    try {
      const states: string[] = [];
      session.onState((s) => states.push(s));
      await session.configure({ deviceId: 'hil-pty-1', deviceType: 'psem' });
      await session.setTime(Date.UTC(2021, 9, 25, 16, 0), 60);
      await session.ack((await session.status()).lastSeq);

      await session.injectTamper();
      await session.sos();
      const tamper = await session.expectRecord((r) => r.device === 'hil-pty-1' && r.type === 'event' && r.event === 'strap_tamper');
      const sos = await session.expectRecord((r) => r.device === 'hil-pty-1' && r.type === 'event' && r.event === 'sos');

      emulator?.kill('SIGKILL');
      await waitFor('the session to go down', () => session.state === 'down');
      emulator = await startEmulator(deviceEnd);
      await waitFor('the session to come back up', () => session.state === 'up');
      expect(states).toEqual(['down', 'up']);
      expect(session.stats.reconnects).toBe(1);

      // Nothing acknowledged, nothing lost: both events again, same seqs, same content.
      const again = [
        await session.expectRecord((r) => r.seq === tamper.seq),
        await session.expectRecord((r) => r.seq === sos.seq),
      ];
      expect(again).toEqual([tamper, sos]);
      // The restarted device's seq goes on from where it was.
      await session.injectTamper();
      const next = (await session.expectRecord((r) => r.type === 'event' && r.event === 'strap_tamper' && r.seq > sos.seq)) as EventRecord;
      expect(next.seq).toBeGreaterThan(sos.seq);
      await session.ack(next.seq);
      expect((await session.status()).outbox).toBe(0);

      const log = readFileSync(byteLogFile, 'utf8');
      expect(log).toMatch(/^\d{4}-\d\d-\d\dT\S+Z > 24 30 2c 49 44 4e .*\|\$0,IDN\*/m); // harness → device: IDN
      expect(log).toMatch(/^\S+Z < 24 .*\|\$\d+,EVT,hil-pty-1,/m); // device → harness: a record
    } finally {
      await session.close();
    }
  });

  it('an unplug (the pty pair goes away) and a replug on the same path: down, then up, configured and on time again', async () => {
    const session = await openHilSession({ path: harness }, { ackTimeoutMs: 200, retries: 2, keepAliveMs: 300 });
    try {
      await session.configure({ deviceId: 'hil-pty-2', deviceType: 'psem' });
      const start = Date.UTC(2021, 9, 25, 17, 0);
      await session.setTime(start, 60);
      socat?.kill('SIGKILL'); // the cable is pulled: both pty ends go away
      emulator?.kill('SIGKILL');
      await waitFor('the session to go down', () => session.state === 'down');
      await expect(session.injectTamper()).rejects.toMatchObject({ code: 'VIGIL_HIL_DOWN' });

      const pair = await startPtyPair(dir); // plugged back: the same paths, new ptys
      socat = pair.socat;
      emulator = await startEmulator(pair.device);
      await waitFor('the session to come back up', () => session.state === 'up');
      await session.injectTamper();
      const ev = await session.expectRecord((r) => r.type === 'event' && r.event === 'strap_tamper' && r.device === 'hil-pty-2');
      // CFG and TIM were sent again: the device knows who it is and what time it is in the run.
      expect(ev.time).toBeGreaterThanOrEqual(start);
      expect(ev.time).toBeLessThan(start + 30 * 60_000);
      await session.ack(ev.seq);
    } finally {
      await session.close();
    }
  });

  it('a port held by a session is busy for anyone else: exit 2, listing the ports', async () => {
    const session = await openHilSession({ path: harness });
    try {
      const err = await openHilSession({ path: harness }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(VigilError);
      expect((err as VigilError).code).toBe('VIGIL_HIL_PORT_BUSY');
      expect((err as VigilError).oneLine()).toMatch(/is in use by another program[\s\S]*available ports:/);

      const probe = await vigil(['hil', 'probe', harness], { timeoutMs: 30_000 });
      expect(probe.code).toBe(2);
      expect(probe.stderr).toMatch(/vigil: .*is in use by another program/);
      expect(probe.stderr).toContain('available ports:');
      expect(probe.stderr).toContain('[VIGIL_HIL_PORT_BUSY]');
    } finally {
      await session.close();
    }
  });

  it('vigil hil probe prints the identity and the self-test of a free device', async () => {
    expect(existsSync(harness)).toBe(true);
    const probe = await vigil(['hil', 'probe', harness], { timeoutMs: 30_000 });
    expect(probe.stderr).toBe('');
    expect(probe.code).toBe(0);
    expect(probe.stdout).toMatch(/serial number\s+EMU-PTY-1/);
    expect(probe.stdout).toMatch(/follows virtual time\s+yes/);
    expect(probe.stdout).toMatch(/self-test\s+ok/);
  });

  it('vigil hil list prints the ports, and a device that is not there exits 2 with the list', async () => {
    const listed = await vigil(['hil', 'list'], { timeoutMs: 30_000 });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^path\s+vendor:product\s+serial number|no serial ports found/);
    const missing = await vigil(['hil', 'probe', 'serial=NO-SUCH-DEVICE'], { timeoutMs: 30_000 });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('vigil: no serial port matches serial=NO-SUCH-DEVICE');
    expect(missing.stderr).toContain('available ports:');
    expect(missing.stderr).toContain('[VIGIL_HIL_PORT_NOT_FOUND]');
  });
});
