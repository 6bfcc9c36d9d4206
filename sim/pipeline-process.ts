/**
 * Runs the reference pipeline as a child process (`vigil pipeline …`), the default when the user
 * gives no --pipeline URL. The child prints the URL it serves on its first line of output, once it
 * is subscribed to the broker. For the pipeline-restart process fault it can be killed (SIGKILL) and
 * started again on the same port and the same db file (scenarios/runner/process-faults.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface PipelineChild {
  readonly url: string;
  /** The current child's pid. */
  readonly pid: number;
  /** Output lines the children printed, for the run's log. */
  readonly output: string[];
  /** False between kill() and restart(). */
  readonly running: boolean;
  /** SIGKILL, as a crash would; resolves once the child has exited. */
  kill(): Promise<void>;
  /**
   * Starts it again with the same broker, token, db file and port; resolves once it serves.
   * `onWatching` gets the virtual time from which the new process counts silence (docs/RULES.md
   * "Watching since") as soon as it says so, before it serves.
   */
  restart(onWatching?: (virtualMs: number) => void): Promise<void>;
  close(): Promise<void>;
}

export interface PipelineChildOptions {
  /** Without a password: that goes by `brokerPassword`. */
  brokerUrl: string;
  /** The broker password of brokerUrl's user, passed by environment (never argv: a process list shows argv). */
  brokerPassword?: string | undefined;
  /** TLS files (absolute paths) for an mqtts:// broker: `vigil pipeline --ca/--cert/--key`. */
  tlsFiles?: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined } | undefined;
  token: string;
  dbFile: string;
  timeoutMs?: number;
}

const VIGIL_BIN = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));

/** The line a pipeline restarted mid-run says first (pipeline/server.ts), and the virtual time in it. */
const WATCHING_LINE = /watching its devices from virtual (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)/;

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** Spawns one child on `port` (0 = any); resolves with it and the URL it serves. */
async function spawnChild(opts: PipelineChildOptions, port: number, output: string[], onWatching?: (virtualMs: number) => void): Promise<{ child: ChildProcess; url: string }> {
  const tlsArgs = (['ca', 'cert', 'key'] as const).flatMap((role) => (opts.tlsFiles?.[role] === undefined ? [] : [`--${role}`, opts.tlsFiles[role] as string]));
  const child: ChildProcess = spawn(process.execPath, [VIGIL_BIN, 'pipeline', '--broker', opts.brokerUrl, '--port', String(port), '--db', opts.dbFile, ...tlsArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C goes to the foreground group, and the run still
    // needs its pipeline to drain, read the feed and report after the first one. The run stops it.
    detached: true,
    // The token goes by environment, not argv, so it never shows in a process list.
    env: { ...process.env, VIGIL_TOKEN: opts.token, ...(opts.brokerPassword !== undefined && { VIGIL_BROKER_PASSWORD: opts.brokerPassword }) },
  });
  // Out of the terminal's group, it would outlive a run that exits at once (a second Ctrl-C, a
  // crash): killed then, synchronously, as 'exit' handlers must be.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the reference pipeline did not start within ${timeoutMs} ms:\n${output.join('\n')}`));
    }, timeoutMs);
    // Whole lines only: a pipe may cut a line between two chunks, and a cut line would hide its URL.
    const partial = { stdout: '', stderr: '' };
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer): void => {
      const lines = (partial[stream] + chunk.toString()).split('\n');
      partial[stream] = lines.pop() as string;
      for (const line of lines.filter(Boolean)) {
        output.push(line);
        const w = onWatching && WATCHING_LINE.exec(line);
        if (w) onWatching(Date.parse(w[1] as string));
        const m = /(https?:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      }
    };
    child.stdout?.on('data', onData('stdout'));
    child.stderr?.on('data', onData('stderr'));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      for (const rest of [partial.stdout, partial.stderr]) if (rest) output.push(rest);
      reject(new Error(`the reference pipeline exited with ${signal ?? `code ${String(code)}`}:\n${output.join('\n')}`));
    });
  });
  return { child, url };
}

export async function startPipelineChild(opts: PipelineChildOptions): Promise<PipelineChild> {
  const output: string[] = [];
  const first = await spawnChild(opts, 0, output);
  let child: ChildProcess | undefined = first.child;
  const url = first.url;
  const port = Number(new URL(url).port);
  let closed = false;

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || exited(c)) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await gone;
  };

  return {
    url,
    get pid() {
      return child?.pid ?? -1;
    },
    output,
    get running() {
      return child !== undefined && !exited(child);
    },
    kill,
    restart: async (onWatching) => {
      if (closed || (child && !exited(child))) return;
      // The port is free once the child is gone, but an outgoing connection may hold it as its
      // ephemeral port for a moment: retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          const next = await spawnChild(opts, port, output, onWatching);
          if (next.url !== url) {
            next.child.kill('SIGKILL');
            throw new Error(`the restarted pipeline serves ${next.url}, not ${url}`);
          }
          child = next.child;
          return;
        } catch (err) {
          if (!/EADDRINUSE/.test((err as Error).message) || attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    close: async () => {
      closed = true;
      const c = child;
      child = undefined;
      if (!c || exited(c)) return;
      const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}
