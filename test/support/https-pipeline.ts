/**
 * The reference pipeline serving HTTPS and wss:// with test certificates, on an embedded broker, for
 * the tests of a file: started before them, stopped after.
 */
import { afterAll, beforeAll } from 'vitest';
import { makeCerts, type CertFiles } from './certs.ts';
import { startAedes } from './aedes.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/server.ts';

export interface HttpsPipeline {
  readonly certs: CertFiles;
  readonly pipeline: RunningPipeline;
}

/** Registers the file's beforeAll/afterAll; read the result inside tests (it is filled before they run). */
export function useHttpsPipeline(token: string): HttpsPipeline {
  const served = {} as { certs: CertFiles; pipeline: RunningPipeline };
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    served.certs = makeCerts();
    const broker = await startAedes();
    served.pipeline = await startPipeline({
      brokerUrl: broker.url, port: 0, token, log: () => {}, https: { cert: served.certs.read(served.certs.serverCert), key: served.certs.read(served.certs.serverKey) },
    });
    stop = async () => {
      await served.pipeline.close();
      await broker.close();
    };
  });
  afterAll(async () => {
    await stop?.();
  });
  return served;
}
