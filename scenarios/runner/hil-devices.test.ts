import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { HilMatch, OpenHilOptions } from '../../hil/api.ts';
import { VigilError } from '../../protocol/errors.ts';
import { FakeHilSession } from '../../test/support/fake-hil-session.ts';
import { tempDir } from '../../test/support/cli.ts';
import { validateScenario } from '../schema.ts';
import { openRealDevices } from './hil-devices.ts';
import { openRun, type RunContext } from './setup.ts';

const log: string[] = [];
const contexts: RunContext[] = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.teardowns.unwind(() => undefined);
  log.length = 0;
});

function context(hil: unknown[]): RunContext {
  const r = validateScenario({ name: 'x', duration: '30m', speed: 120, fleet: { psem: 2 }, hil });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const ctx = openRun({ loaded: { file: 'x.scenario.ts', sha256: '0', scenario: r.scenario }, outDir: tempDir() });
  contexts.push(ctx);
  return ctx;
}

/** Opens a fake per path, as the core would open the port; records what it was asked. */
function opener(make: (path: string) => FakeHilSession) {
  const opened: { match: HilMatch; opts: OpenHilOptions | undefined; session: FakeHilSession }[] = [];
  const open = (match: HilMatch, opts?: OpenHilOptions): Promise<FakeHilSession> => {
    const session = make(match.path ?? '');
    opened.push({ match, opts, session });
    return Promise.resolve(session);
  };
  return { open, opened };
}

describe('the real devices of a run', () => {
  it('opens each with its byte log in the run directory, gives it its run identity, and closes it in the run\'s teardown', async () => {
    const ctx = context([{ device: '/tmp/a' }, { device: '/tmp/b', role: 'bar_perpetrator' }]);
    const { open, opened } = opener(() => new FakeHilSession());
    const real = await openRealDevices(ctx, open, (l) => log.push(l));
    expect(real.speedForced).toBeUndefined();
    expect(real.ctx.scenario.speed).toBe(120);
    expect(opened.map((o) => [o.match.path, o.opts?.byteLogFile])).toEqual([
      ['/tmp/a', join(ctx.runDir, 'hil-HIL-PSEM-1.log')], ['/tmp/b', join(ctx.runDir, 'hil-HIL-BAR-P-2.log')],
    ]);
    expect(opened.map((o) => o.session.sent('configure'))).toEqual([
      [{ cmd: 'configure', deviceId: 'HIL-PSEM-1', deviceType: 'psem' }], [{ cmd: 'configure', deviceId: 'HIL-BAR-P-2', deviceType: 'bar_perpetrator' }],
    ]);
    expect(log.join('\n')).toMatch(/hil HIL-PSEM-1: fake bracelet serial FAKE-0001, firmware 0.0.1, on \/dev\/serial\/by-id\/fake \(gateway mode\)/);
    await ctx.teardowns.unwind(() => undefined);
    expect(opened.every((o) => o.session.closed)).toBe(true);
  });

  it('provisions a device with a history from the oldest record it still holds (firstSeq), and says so', async () => {
    const ctx = context([{ device: '/tmp/a' }]);
    const used = new FakeHilSession();
    used.status = () => Promise.resolve({ time: 0, battery: 90, charging: false, outbox: 3, lastSeq: 41, selfTest: 'ok' });
    const real = await openRealDevices(ctx, opener(() => used).open, (l) => log.push(l));
    expect(log.join('\n')).toMatch(/HIL-PSEM-1: the device made 41 records before this run \(3 still unacknowledged\): this run starts it at seq 39/);
    expect(real.ctx.fleet.devices.find((d) => d.deviceId === 'HIL-PSEM-1')?.firstSeq).toBe(39);
    // The virtual devices start at 1, as ever.
    expect(real.ctx.fleet.devices.filter((d) => d.firstSeq !== undefined).map((d) => d.deviceId)).toEqual(['HIL-PSEM-1']);
  });

  it('goes at speed 1 when a device cannot follow virtual time, and says so once', async () => {
    const ctx = context([{ device: '/tmp/a' }, { device: '/tmp/slow' }]);
    const { open } = opener((path) => new FakeHilSession({ followsVirtualTime: path !== '/tmp/slow' }));
    const real = await openRealDevices(ctx, open, (l) => log.push(l));
    expect(real.ctx.scenario.speed).toBe(1);
    expect(real.speedForced).toEqual({ from: 120, to: 1, devices: ['HIL-PSEM-2'] });
    expect(log.filter((l) => /cannot follow virtual time/.test(l))).toEqual(['hil: HIL-PSEM-2 cannot follow virtual time: the run goes at speed 1, not 120 (DESIGN.md "Time")']);
  });

  it('refuses a device that cannot play its role, naming the field, and closes what it opened', async () => {
    const ctx = context([{ device: '/tmp/a' }, { device: '/tmp/b', role: 'bar_perpetrator' }]);
    const { open, opened } = opener((path) => new FakeHilSession({ deviceTypes: path === '/tmp/b' ? ['psem'] : ['psem', 'bar_perpetrator'] }));
    const attempt = openRealDevices(ctx, open, () => undefined);
    await expect(attempt).rejects.toThrow(VigilError);
    await expect(attempt).rejects.toThrow(/hil.1: the device on \/tmp\/fake-pty \(fake bracelet, serial FAKE-0001\) cannot play bar_perpetrator: it plays psem/);
    expect(opened.every((o) => o.session.closed)).toBe(true);
  });

  it('a run with real devices and no way to open them is refused', async () => {
    await expect(openRealDevices(context([{ device: '/tmp/a' }]), undefined, () => undefined)).rejects.toThrow(/1 real device \(hil\) and no serial support/);
  });
});
