/**
 * A real mosquitto (Debian package) on a free loopback port, for tests and benches that use an
 * external broker: sim/mosquitto.ts's managed mosquitto, in a temporary directory.
 *
 * With `security` it is the reference set-up of issue 8: a TLS listener that requires a client
 * certificate signed by the test CA, a password file (made by mosquitto_passwd) and an ACL that lets
 * a device write only its own uplink topic and read only its own ack topic (username = device id).
 */
import { startManagedMosquitto, type MosquittoSecurity } from '../../sim/mosquitto.ts';
import { tempDir } from './cli.ts';

export { freePort, type MosquittoSecurity } from '../../sim/mosquitto.ts';

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** What mosquitto logged (errors and warnings) so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function startMosquitto(extraConfig: string[] = [], security: MosquittoSecurity = {}): Promise<Mosquitto> {
  const m = await startManagedMosquitto({ dir: tempDir('vigil-mosquitto-'), security, extraConfig });
  return { url: m.url, port: m.port, log: () => m.log(), stop: () => m.close() };
}
