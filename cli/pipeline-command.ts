/** `vigil pipeline`: the reference monitoring pipeline on its own, until SIGINT/SIGTERM. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPipeline } from '../pipeline/server.ts';
import { checkTargets } from '../config/interlock.ts';
import { loadProjectConfig } from '../config/project-config.ts';

export async function pipelineCommand(o: { broker: string; port: number; db?: string; token?: string }): Promise<void> {
  // The pipeline publishes acks on the broker's device topics: a broker Vigil may load, like a run's.
  checkTargets([{ what: 'the MQTT broker', url: o.broker, from: '--broker' }], await loadProjectConfig());
  const token = o.token ?? process.env.VIGIL_TOKEN ?? randomBytes(16).toString('hex');
  const dbFile = o.db ?? join(mkdtempSync(join(tmpdir(), 'vigil-pipeline-')), 'pipeline.db');
  const p = await startPipeline({ brokerUrl: o.broker, port: o.port, dbFile, token, log: (line) => process.stderr.write(`pipeline: ${line}\n`) });
  // The first line is the URL: `vigil run` and scripts read it.
  process.stdout.write(`vigil pipeline serving ${p.url} (broker ${o.broker}, db ${dbFile})\n`);
  if (!o.token && !process.env.VIGIL_TOKEN) process.stdout.write(`token: ${token}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await p.close();
}
