/**
 * The safety interlock in `vigil run` (issue 8 item 4): a target that is not allowed stops the run
 * before any connection is made, any server listens or any child process starts. Every TCP connect
 * (MQTT, fetch, WebSocket all go through net.Socket), every listen (the embedded broker, the
 * proxies) and every child process start is spied on.
 */
import { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VigilError } from '../protocol/errors.ts';
import { pipelineCommand } from './pipeline-command.ts';
import { runCommand } from './run-command.ts';

function spies() {
  return {
    connect: vi.spyOn(net.Socket.prototype, 'connect'),
    listen: vi.spyOn(net.Server.prototype, 'listen'),
    // spawn() and fork() (the pipeline child, fleet workers, proxy workers) all start their process
    // through ChildProcess#spawn, which @types/node does not declare.
    spawn: vi.spyOn(ChildProcess.prototype as unknown as { spawn: (options: unknown) => void }, 'spawn'),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

const out = (): string => mkdtempSync(join(tmpdir(), 'vigil-interlock-'));

describe('vigil run and the safety interlock', () => {
  it.each([
    ['--broker', { broker: 'mqtt://10.255.255.1:1883' }, /the MQTT broker 10\.255\.255\.1 \(--broker mqtt:\/\/10\.255\.255\.1:1883\) is not on the allow-list/],
    ['--pipeline', { pipeline: 'http://staging.example:8080' }, /the pipeline staging\.example \(--pipeline http:\/\/staging\.example:8080\) is not on the allow-list/],
    ['--broker of an observer', { broker: 'mqtt://10.255.255.1:1883', observe: true }, /the MQTT broker 10\.255\.255\.1/],
    ['--broker of a load (devices only)', { broker: 'mqtt://10.255.255.1:1883', devicesOnly: true, clock: '{"startVirtual":0,"startReal":0,"speed":1}' }, /the MQTT broker 10\.255\.255\.1/],
  ])('a non-allowed %s stops the run before anything connects, listens or starts', async (_name, flags, message) => {
    const s = spies();
    const err = await runCommand('scenarios/smoke.scenario.ts', { out: out(), ...flags }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(VigilError);
    expect((err as VigilError).code).toBe('VIGIL_TARGET_NOT_ALLOWED');
    expect((err as VigilError).oneLine()).toMatch(message);
    expect((err as VigilError).oneLine()).toMatch(/create .*vigil\.config\.ts with: export default \{ targets: \{ allow: \[/);
    expect(s.connect).not.toHaveBeenCalled();
    expect(s.listen).not.toHaveBeenCalled();
    expect(s.spawn).not.toHaveBeenCalled();
  });

  it('an allowed (loopback) target is dialled: the spies see what a refused one never does', async () => {
    const s = spies();
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const err = await runCommand('scenarios/smoke.scenario.ts', { out: out(), broker: `mqtt://127.0.0.1:${closed}`, pipeline: `http://127.0.0.1:${closed}` }).then(() => undefined, (e: unknown) => e);
    expect((err as VigilError).code).toBe('VIGIL_BROKER_UNREACHABLE');
    expect(s.connect).toHaveBeenCalled();
  });

  it('vigil pipeline refuses a non-allowed broker before it listens or subscribes', async () => {
    const s = spies();
    const err = await pipelineCommand({ broker: 'mqtt://10.255.255.1:1883', port: 0 }).then(() => undefined, (e: unknown) => e);
    expect((err as VigilError).code).toBe('VIGIL_TARGET_NOT_ALLOWED');
    expect((err as VigilError).oneLine()).toMatch(/the MQTT broker 10\.255\.255\.1 \(--broker mqtt:\/\/10\.255\.255\.1:1883\)/);
    expect(s.connect).not.toHaveBeenCalled();
    expect(s.listen).not.toHaveBeenCalled();
  });
});
