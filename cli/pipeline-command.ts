/** `vigil pipeline`: the reference monitoring pipeline on its own, until SIGINT/SIGTERM. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPipeline } from '../pipeline/server.ts';
import { checkTargets } from '../config/interlock.ts';
import { loadProjectConfig } from '../config/project-config.ts';
import { mergeTlsFiles, readTlsFiles } from '../config/tls-files.ts';
import { redactUrl } from '../protocol/redact.ts';

/**
 * The environment variable a password for --broker may come by instead of the URL's userinfo, so it
 * shows in no process list: the run's pipeline child gets the embedded broker's service password so.
 */
export const BROKER_PASSWORD_ENV = 'VIGIL_BROKER_PASSWORD';

export interface PipelineFlags {
  broker: string;
  port: number;
  db?: string;
  token?: string;
  ca?: string;
  cert?: string;
  key?: string;
  httpsCert?: string;
  httpsKey?: string;
}

/** --broker with the password of $VIGIL_BROKER_PASSWORD put in, when the URL names a user and no password. */
export function brokerWithPassword(broker: string, env: NodeJS.ProcessEnv = process.env): string {
  const password = env[BROKER_PASSWORD_ENV];
  if (password === undefined || password === '') return broker;
  const u = new URL(broker);
  if (u.username === '' || u.password !== '') return broker;
  u.password = encodeURIComponent(password);
  return u.href;
}

export async function pipelineCommand(o: PipelineFlags): Promise<void> {
  // The pipeline publishes acks on the broker's device topics: a broker Vigil may load, like a run's.
  checkTargets([{ what: 'the MQTT broker', url: o.broker, from: '--broker' }], await loadProjectConfig());
  const brokerTls = readTlsFiles(mergeTlsFiles(o, undefined, process.cwd()));
  const served = readTlsFiles({
    ...(o.httpsCert !== undefined && { cert: { path: resolve(o.httpsCert), from: '--https-cert' } }),
    ...(o.httpsKey !== undefined && { key: { path: resolve(o.httpsKey), from: '--https-key' } }),
  });
  const https = served?.cert !== undefined && served.key !== undefined ? { cert: served.cert, key: served.key } : undefined;
  const token = o.token ?? process.env.VIGIL_TOKEN ?? randomBytes(16).toString('hex');
  const dbFile = o.db ?? join(mkdtempSync(join(tmpdir(), 'vigil-pipeline-')), 'pipeline.db');
  const p = await startPipeline({
    brokerUrl: brokerWithPassword(o.broker), port: o.port, dbFile, token, brokerTls, https,
    log: (line) => process.stderr.write(`pipeline: ${line}\n`),
  });
  // The first line is the URL: `vigil run` and scripts read it.
  process.stdout.write(`vigil pipeline serving ${p.url} (broker ${redactUrl(o.broker)}, db ${dbFile})\n`);
  if (!o.token && !process.env.VIGIL_TOKEN) process.stdout.write(`token: ${token}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await p.close();
}
