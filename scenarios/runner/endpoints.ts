/**
 * Reaching the broker and the pipeline before a run starts, with a clear error (exit 2) when they
 * are not there — within a few seconds, not after a fleet has started.
 */
import mqtt from 'mqtt';
import { Agent, fetch as undiciFetch } from 'undici';
import { VigilError } from '../../protocol/errors.ts';
import { redactUrl } from '../../protocol/redact.ts';
import { isMqttTls, type TlsMaterial } from '../../protocol/tls.ts';
import { underBase } from '../../protocol/feed.ts';
import { ADMIN_FAULT_PATH, type PipelineFault, type PipelineFaultResult } from '../../protocol/pipeline-admin.ts';
import { HEALTH_PATH, PROVISION_PATH, SUMMARY_PATH, type Health, type IngestSummary, type Provisioning, type ProvisioningResult } from '../../protocol/provisioning.ts';

/** Connects once (with the URL's login and `tls` for mqtts://) and leaves; a clear error when it cannot. */
export async function probeBroker(url: string, tls?: TlsMaterial, timeoutMs = 5000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const client = mqtt.connect(url, { clientId: `vigil-probe-${process.pid}`, connectTimeout: timeoutMs, reconnectPeriod: 0, clean: true, ...tls });
    const fail = (why: string): void => {
      client.end(true);
      const fix = isMqttTls(url) ? 'check --ca (the CA that signed the broker\'s certificate), --cert and --key, and --broker' : 'start the broker, or fix --broker (or omit it to use the embedded broker)';
      reject(new VigilError('VIGIL_BROKER_UNREACHABLE', `cannot reach the MQTT broker at ${redactUrl(url)}: ${why}`, fix));
    };
    const timer = setTimeout(() => fail(`no CONNACK within ${timeoutMs / 1000} s`), timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      client.end(true, {}, () => resolve());
    });
    client.once('error', (err) => {
      clearTimeout(timer);
      fail(err.message);
    });
  });
}

/**
 * One connection pool per TLS material: an https:// pipeline's certificate is checked against the
 * run's CA (--ca, tls.ca) and the run's client certificate is offered, as for the broker. Node's
 * global fetch takes no CA; undici, the library it is built on, takes an Agent that does.
 */
const agents = new WeakMap<TlsMaterial, Agent>();
function agentFor(tls: TlsMaterial): Agent {
  let agent = agents.get(tls);
  if (!agent) {
    agent = new Agent({ connect: { ...tls } });
    agents.set(tls, agent);
  }
  return agent;
}

interface CallInit {
  readonly method?: string;
  readonly body?: string;
}

async function call<T>(base: string, path: string, token: string, init: CallInit = {}, timeoutMs = 10_000, tls?: TlsMaterial): Promise<T> {
  let res: Awaited<ReturnType<typeof undiciFetch>>;
  try {
    res = await undiciFetch(underBase(base, path), {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      ...(tls && base.startsWith('https:') && { dispatcher: agentFor(tls) }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    const fix = base.startsWith('https:')
      ? 'start it, or fix --pipeline; for a private CA give --ca (the CA that signed the pipeline\'s certificate)'
      : 'start it (`vigil pipeline --broker URL`) or fix --pipeline';
    throw new VigilError('VIGIL_PIPELINE_UNREACHABLE', `cannot reach the pipeline at ${base}: ${cause}`, fix);
  }
  const text = await res.text();
  if (!res.ok) {
    const fix = res.status === 401 ? 'pass the pipeline\'s token with --token or VIGIL_TOKEN' : 'see the pipeline\'s log';
    throw new VigilError('VIGIL_PIPELINE_REJECTED', `the pipeline answered ${path} with HTTP ${res.status}: ${text.slice(0, 300)}`, fix);
  }
  return JSON.parse(text) as T;
}

/** The pipeline's API; `tls` for an https:// pipeline signed by a private CA, or that asks for a client certificate. */
export const pipelineApi = {
  health: (base: string, tls?: TlsMaterial) => call<Health>(base, HEALTH_PATH, '', {}, 10_000, tls),
  provision: (base: string, token: string, body: Provisioning, tls?: TlsMaterial) => call<ProvisioningResult>(base, PROVISION_PATH, token, { method: 'POST', body: JSON.stringify(body) }, 30_000, tls),
  summary: (base: string, token: string, tls?: TlsMaterial) => call<IngestSummary>(base, SUMMARY_PATH, token, {}, 30_000, tls),
  /** The reference pipeline's admin fault switch (docs/PROTOCOL.md "Reference pipeline only"). */
  fault: (base: string, token: string, body: PipelineFault) => call<PipelineFaultResult>(base, ADMIN_FAULT_PATH, token, { method: 'POST', body: JSON.stringify(body) }),
};
