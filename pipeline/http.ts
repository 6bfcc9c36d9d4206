/**
 * The HTTP API (protocol/provisioning.ts): provisioning and ingest summary behind the bearer token,
 * health without it; and the reference pipeline's admin fault switch (protocol/pipeline-admin.ts),
 * behind the token too. node:http, no framework: four routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEALTH_PATH, PROVISION_PATH, Provisioning, SUMMARY_PATH, provisioningProblems, type Health } from '../protocol/provisioning.ts';
import { FEED_PATH } from '../protocol/feed.ts';
import { ADMIN_FAULT_PATH, PipelineFault, pipelineFaultProblems, type PipelineFaultResult } from '../protocol/pipeline-admin.ts';
import { bearerOk } from './auth.ts';
import type { Engine } from './engine.ts';

export const SERVER_NAME = 'vigil-reference-pipeline';
export const SERVER_VERSION = '0.1.0';
/** 15,000 devices with zones is a few MB of JSON. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface HttpDeps {
  engine: Engine;
  token: string;
  /** Health is ok while the broker connection is up. */
  healthy: () => boolean;
  /** The slow-consumer fault lives in the ingest, not the engine: not persisted. */
  setSlowConsumer: (active: boolean) => PipelineFaultResult;
  log: (line: string) => void;
}

class HttpError extends Error {
  /** Every problem found, when there may be several (provisioning); `message` is the first. */
  readonly problems: readonly string[] | undefined;
  constructor(readonly status: number, message: string, problems?: readonly string[]) {
    super(message);
    this.problems = problems;
  }
}

/** A 400 naming every problem (`field.path: message`), the first as `error`. */
function invalid(problems: readonly string[]): HttpError {
  return new HttpError(400, problems[0] ?? '(body): invalid', problems);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body: larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The Provisioning schema, with its cross-field checks; every problem names its field. */
export function parseProvisioning(text: string): Provisioning {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    throw invalid(['body: not JSON']);
  }
  const r = Provisioning.safeParse(x);
  if (!r.success) throw invalid(provisioningProblems(x));
  return r.data;
}

/** A pipeline fault switch; every problem names its field. */
export function parsePipelineFault(text: string): PipelineFault {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    throw invalid(['body: not JSON']);
  }
  const r = PipelineFault.safeParse(x);
  if (!r.success) throw invalid(pipelineFaultProblems(x));
  return r.data;
}

export function httpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    const only = (m: string): void => {
      if (method !== m) throw new HttpError(405, `method ${method} not allowed on ${path}`);
    };
    const authed = (): void => {
      if (!bearerOk(req.headers, deps.token)) throw new HttpError(401, 'missing or wrong bearer token');
    };
    switch (path) {
      case HEALTH_PATH: {
        only('GET');
        const h: Health = { ok: deps.healthy(), server: SERVER_NAME, version: SERVER_VERSION, runId: deps.engine.runId };
        return send(res, 200, h);
      }
      case PROVISION_PATH: {
        only('POST');
        authed();
        const p = parseProvisioning(await readBody(req));
        return send(res, 200, deps.engine.provision(p));
      }
      case SUMMARY_PATH:
        only('GET');
        authed();
        return send(res, 200, deps.engine.summary());
      case ADMIN_FAULT_PATH: {
        only('POST');
        authed();
        const f = parsePipelineFault(await readBody(req));
        if (f.kind === 'slow-consumer') return send(res, 200, deps.setSlowConsumer(f.active));
        return send(res, 200, deps.engine.setFault(f.kind, f.active));
      }
      case FEED_PATH:
        throw new HttpError(426, 'the feed is a WebSocket');
      default:
        throw new HttpError(404, `no route ${path}`);
    }
  };
  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) deps.log(`HTTP ${req.method ?? ''} ${req.url ?? ''} failed: ${String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body: { error: string; problems?: readonly string[] } = { error: err instanceof Error ? err.message : String(err) };
      if (err instanceof HttpError && err.problems) body.problems = err.problems;
      send(res, status, body, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
    });
  };
}
