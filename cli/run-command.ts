/** `vigil run <scenario-file>`: load and validate, run, report, and return the exit code. */
import { loadScenario } from '../scenarios/load.ts';
import { runScenario } from '../scenarios/runner/run-scenario.ts';
import { summaryText } from '../reports/summary.ts';

export interface RunFlags {
  broker?: string;
  pipeline?: string;
  token?: string;
  speed?: number;
  devices?: number;
  seed?: number;
  firmware?: string;
  out: string;
}

/** The command line that reproduces a run, from the parsed flags; the token is never in it. */
export function reproduceCommand(file: string, flags: RunFlags): string {
  const parts = ['npx vigil run', file];
  for (const name of ['broker', 'pipeline', 'speed', 'devices', 'seed', 'firmware', 'out'] as const) {
    const v = flags[name];
    if (v !== undefined) parts.push(`--${name}`, String(v));
  }
  return parts.join(' ');
}

export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const loaded = await loadScenario(file, { speed: flags.speed, devices: flags.devices, seed: flags.seed, firmware: flags.firmware });
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nvigil: stopping — draining, reading and reporting (Ctrl-C again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const { result, runDir } = await runScenario({
      loaded, brokerUrl: flags.broker, pipelineUrl: flags.pipeline, token: flags.token, outDir: flags.out,
      command: reproduceCommand(file, flags), signal: abort.signal, log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`${summaryText(result, runDir)}\n`);
    return result.verdict === 'PASS' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
