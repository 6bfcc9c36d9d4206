/**
 * Reaching the broker and the pipeline before a run starts, with a clear error (exit 2) when they
 * are not there — within a few seconds, not after a fleet has started.
 */
import mqtt from 'mqtt';
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

async function call<T>(base: string, path: string, token: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<T> {
  let res: Response;
  try {
    res = await fetch(underBase(base, path), {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new VigilError('VIGIL_PIPELINE_UNREACHABLE', `cannot reach the pipeline at ${base}: ${cause}`, 'start it (`vigil pipeline --broker URL`) or fix --pipeline');
  }
  const text = await res.text();
  if (!res.ok) {
    const fix = res.status === 401 ? 'pass the pipeline\'s token with --token or VIGIL_TOKEN' : 'see the pipeline\'s log';
    throw new VigilError('VIGIL_PIPELINE_REJECTED', `the pipeline answered ${path} with HTTP ${res.status}: ${text.slice(0, 300)}`, fix);
  }
  return JSON.parse(text) as T;
}

export const pipelineApi = {
  health: (base: string) => call<Health>(base, HEALTH_PATH, ''),
  provision: (base: string, token: string, body: Provisioning) => call<ProvisioningResult>(base, PROVISION_PATH, token, { method: 'POST', body: JSON.stringify(body) }, 30_000),
  summary: (base: string, token: string) => call<IngestSummary>(base, SUMMARY_PATH, token, {}, 30_000),
  /** The reference pipeline's admin fault switch (docs/PROTOCOL.md "Reference pipeline only"). */
  fault: (base: string, token: string, body: PipelineFault) => call<PipelineFaultResult>(base, ADMIN_FAULT_PATH, token, { method: 'POST', body: JSON.stringify(body) }),
};
