/**
 * The reference monitoring centre (DESIGN.md "The house", pipeline/): wires the store, the engine
 * (group commit + rules), MQTT ingest, the watchdog, the HTTP API and the operator feed. It speaks
 * only the wire contracts in protocol/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import type { TlsMaterial } from '../protocol/tls.ts';
import { redactUrl } from '../protocol/redact.ts';
import type { AddressInfo } from 'node:net';
import { DEFAULT_GAP_TIMEOUT_MS, Engine, type EngineStats } from './engine.ts';
import { Feed } from './feed.ts';
import { SERVER_NAME, httpHandler } from './http.ts';
import { Ingest } from './ingest.ts';
import { SLOW_CONSUMER_MS, type PipelineFaultResult } from '../protocol/pipeline-admin.ts';
import { Store } from './store.ts';
import { Watchdog } from './watchdog.ts';

export interface PipelineOptions {
  brokerUrl: string;
  /** 0 = any free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** SQLite file; data survives a restart (also kill -9). Default: in memory, gone on close. */
  dbFile?: string;
  token: string;
  log?: (line: string) => void;
  /**
   * MQTT client id of the pipeline's persistent session. Default: `vigil-pipeline-` + a hash of the
   * db file, so a restart on the same data resumes its session while two pipelines sharing a broker
   * never take each other's (a broker disconnects the older of two clients with one id, MQTT-3.1.4-2).
   */
  clientId?: string;
  /** Real ms to wait for the first MQTT subscription before giving up. Default 15,000. */
  connectTimeoutMs?: number;
  /**
   * Virtual ms before the rules move past a device's missing seq (RULES.md "Evaluation order").
   * Default: the environment's VIGIL_GAP_TIMEOUT_MS, else DEFAULT_GAP_TIMEOUT_MS (30 virtual minutes).
   */
  gapTimeoutMs?: number;
  /** CA and client certificate for an mqtts:// broker. */
  brokerTls?: TlsMaterial | undefined;
  /** Serve the API over HTTPS and the feed over wss:// with this certificate and key (PEM). */
  https?: { readonly cert: string; readonly key: string } | undefined;
}

/** The environment variable that sets the gap timeout of a pipeline started without `gapTimeoutMs`. */
export const GAP_TIMEOUT_ENV = 'VIGIL_GAP_TIMEOUT_MS';

/** The gap timeout from the environment: a whole number of virtual ms > 0; unset or empty is the default. */
export function gapTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[GAP_TIMEOUT_ENV]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_GAP_TIMEOUT_MS;
  const ms = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new Error(`${GAP_TIMEOUT_ENV}=${raw}: give a whole number of virtual milliseconds > 0 (default ${DEFAULT_GAP_TIMEOUT_MS})`);
  }
  return ms;
}

export interface RunningPipeline {
  /** http://HOST:PORT */
  url: string;
  /** Counters since start (batches, records, duplicates, rejected, commits, alarms). */
  stats(): Readonly<EngineStats>;
  close(): Promise<void>;
}

function defaultClientId(dbFile: string | undefined): string {
  const key = dbFile && dbFile !== ':memory:' ? resolve(dbFile) : `memory-${process.pid}-${randomBytes(4).toString('hex')}`;
  return `vigil-pipeline-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

export async function startPipeline(opts: PipelineOptions): Promise<RunningPipeline> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[pipeline] ${line}\n`));
  const host = opts.host ?? '127.0.0.1';
  const gapTimeoutMs = opts.gapTimeoutMs ?? gapTimeoutFromEnv();
  const store = new Store(opts.dbFile ?? ':memory:');
  // The commit hook acks through ingest and wakes the feed, both built below; no commit can happen
  // before they exist (commits follow messages or requests, which need a later event-loop turn).
  const engine = new Engine(store, {
    log,
    gapTimeoutMs,
    afterCommit: (r) => {
      ingest.publishAcks(r.acks);
      if (r.alarms > 0) feed.notify();
    },
  });
  // Said at once, before the broker's backlog comes in: a harness that restarted this process judges
  // communication_loss by the same "watching since" (docs/RULES.md), and reads it from this line
  // (sim/pipeline-process.ts WATCHING_LINE).
  const watchingFrom = engine.watchingFrom;
  if (watchingFrom !== undefined) {
    log(`restarted in the middle of run ${engine.runId ?? '?'}: watching its devices from virtual ${new Date(watchingFrom).toISOString()}; a silence before it is not counted (docs/RULES.md "Watching since")`);
  }
  let slow = false;
  const setSlowConsumer = (active: boolean): PipelineFaultResult => {
    const changed = active !== slow;
    slow = active;
    ingest.setSlow(active ? SLOW_CONSUMER_MS : 0);
    if (changed) log(`fault slow-consumer ${active ? `on: each uplink message takes ${SLOW_CONSUMER_MS} ms before the next is read` : 'off'}`);
    return { ok: true, kind: 'slow-consumer', active, changed };
  };
  const handler = httpHandler({ engine, token: opts.token, healthy: () => ingest.connected, setSlowConsumer, log });
  const server = opts.https ? https.createServer({ cert: opts.https.cert, key: opts.https.key }, handler) : http.createServer(handler);
  const feed = new Feed({ server, store, token: opts.token, serverName: SERVER_NAME, now: () => engine.now(), log });
  const watchdog = new Watchdog(engine, log);
  const ingest = new Ingest({ brokerUrl: opts.brokerUrl, clientId: opts.clientId ?? defaultClientId(opts.dbFile), engine, log, tls: opts.brokerTls });

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    watchdog.stop();
    await ingest.close();
    feed.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    store.close();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const timeoutMs = opts.connectTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ingest.ready,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no MQTT subscription at ${redactUrl(opts.brokerUrl)} after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (err) {
    await close();
    throw err;
  }

  const { port } = server.address() as AddressInfo;
  const url = `${opts.https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`listening on ${url}${opts.dbFile ? `, store ${opts.dbFile}` : ''}${engine.runId ? `, run ${engine.runId}` : ''}, gap timeout ${gapTimeoutMs} virtual ms` +
    `${engine.alarmIdOverflowOn ? ', fault alarm-id-overflow ON (alarms are lost)' : ''}`);
  return { url, stats: () => ({ ...engine.stats }), close };
}
