/**
 * The embedded MQTT broker: aedes in this process, the no-install default when no --broker is given.
 * Listens on loopback only (load tests target 127.0.0.1).
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface RunningBroker {
  readonly url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(port = 0): Promise<RunningBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  server.maxConnections = 50_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('embedded broker: no TCP address');
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    close: async () => {
      // Close client sockets with the broker, then the listener.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
