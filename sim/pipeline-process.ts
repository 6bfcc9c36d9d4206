/**
 * Runs the reference pipeline as a child process (`vigil pipeline …`), the default when the user
 * gives no --pipeline URL. The child prints the URL it serves on its first line of output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface PipelineChild {
  readonly url: string;
  readonly pid: number;
  /** Output lines the child printed, for the run's log. */
  readonly output: string[];
  close(): Promise<void>;
}

const VIGIL_BIN = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));

export async function startPipelineChild(opts: { brokerUrl: string; token: string; dbFile: string; timeoutMs?: number }): Promise<PipelineChild> {
  const child: ChildProcess = spawn(process.execPath, [VIGIL_BIN, 'pipeline', '--broker', opts.brokerUrl, '--port', '0', '--db', opts.dbFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The token goes by environment, not argv, so it never shows in a process list.
    env: { ...process.env, VIGIL_TOKEN: opts.token },
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the reference pipeline did not start within ${opts.timeoutMs ?? 20_000} ms:\n${output.join('\n')}`)), opts.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        output.push(line);
        const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the reference pipeline exited with code ${String(code)}:\n${output.join('\n')}`));
    });
  });
  return {
    url,
    pid: child.pid ?? -1,
    output,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
