/** The reference pipeline serving HTTPS and wss:// with test certificates, on an embedded broker, for tests. */
import { makeCerts, type CertFiles } from './certs.ts';
import { startAedes } from './aedes.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/server.ts';

export interface HttpsPipeline {
  readonly certs: CertFiles;
  readonly pipeline: RunningPipeline;
  close(): Promise<void>;
}

export async function startHttpsPipeline(token: string): Promise<HttpsPipeline> {
  const certs = makeCerts();
  const broker = await startAedes();
  const pipeline = await startPipeline({ brokerUrl: broker.url, port: 0, token, log: () => {}, https: { cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey) } });
  return {
    certs, pipeline,
    close: async () => {
      await pipeline.close();
      await broker.close();
    },
  };
}
