/**
 * A real mosquitto (Debian package) on a free loopback port, for tests that use an external broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { tempDir } from './cli.ts';

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** What mosquitto logged (errors and warnings) so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(extraConfig: string[] = []): Promise<Mosquitto> {
  const port = await freePort();
  const dir = tempDir('vigil-mosquitto-');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ...extraConfig, ''].join('\n'));
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `mqtt://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000 });
      c.once('connect', () => c.end(true, {}, () => resolve(true)));
      c.once('error', () => {
        c.end(true);
        resolve(false);
      });
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on ${url}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
