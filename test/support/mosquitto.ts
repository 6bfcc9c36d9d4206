/**
 * A real mosquitto (Debian package) on a free loopback port, for tests that use an external broker.
 *
 * With `security` it is the reference set-up of issue 8: a TLS listener that requires a client
 * certificate signed by the test CA, a password file (made by mosquitto_passwd) and an ACL that lets
 * a device write only its own uplink topic and read only its own ack topic (username = device id).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { UPLINK_TOPIC_PREFIX } from '../../protocol/uplink.ts';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import mqtt from 'mqtt';
import { tempDir } from './cli.ts';

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** What mosquitto logged (errors and warnings) so far. */
  log(): string;
  stop(): Promise<void>;
}

export interface MosquittoSecurity {
  /** Server certificate, key and CA; clients must present a certificate the CA signed. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string } | undefined;
  /** username → password; anonymous logins are refused. */
  readonly users?: Readonly<Record<string, string>> | undefined;
  /** The account that may read and write every device topic (the pipeline); the others get the %u patterns. */
  readonly serviceUser?: string | undefined;
  /** How the readiness probe connects: a client certificate (with tls) and the service account. */
  readonly probe?: { readonly cert?: string; readonly key?: string } | undefined;
}

/** The config lines, password file and ACL of `security`, written into `dir`. */
function securityConfig(dir: string, security: MosquittoSecurity): string[] {
  const { tls, users, serviceUser } = security;
  // Run as root, mosquitto would switch to the `mosquitto` user, which cannot read our 0700 temp
  // dirs: stay the user we are (ignored when not root). Only with files to read.
  const lines: string[] = tls || users ? [`user ${userInfo().username}`] : [];
  if (tls) lines.push(`cafile ${tls.ca}`, `certfile ${tls.cert}`, `keyfile ${tls.key}`, 'require_certificate true', 'tls_version tlsv1.2');
  if (users) {
    // Plain "user:password" lines, hashed in place by mosquitto_passwd -U (one call for every user).
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, Object.entries(users).map(([u, p]) => `${u}:${p}\n`).join(''));
    chmodSync(passwd, 0o600);
    execFileSync('mosquitto_passwd', ['-U', passwd], { stdio: ['ignore', 'ignore', 'pipe'] });
    const acl = join(dir, 'acl');
    writeFileSync(acl, [
      ...(serviceUser ? [`user ${serviceUser}`, `topic readwrite ${UPLINK_TOPIC_PREFIX}#`] : []),
      // A device (username = its id) writes only its uplink and reads only its acks.
      `pattern write ${UPLINK_TOPIC_PREFIX}%u/up`,
      `pattern read ${UPLINK_TOPIC_PREFIX}%u/ack`,
      '',
    ].join('\n'));
    chmodSync(acl, 0o600);
    lines.push('allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`);
  }
  return lines;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(extraConfig: string[] = [], security: MosquittoSecurity = {}): Promise<Mosquitto> {
  const port = await freePort();
  const dir = tempDir('vigil-mosquitto-');
  const conf = join(dir, 'mosquitto.conf');
  const secured = securityConfig(dir, security);
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, ...(security.users ? [] : ['allow_anonymous true']), ...secured, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ...extraConfig, ''].join('\n'));
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `${security.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`;
  const service = security.serviceUser;
  const probeOptions = {
    ...(security.tls && { ca: readFileSync(security.tls.ca) }),
    ...(security.probe?.cert !== undefined && { cert: readFileSync(security.probe.cert) }),
    ...(security.probe?.key !== undefined && { key: readFileSync(security.probe.key) }),
    ...(service !== undefined && { username: service, password: security.users?.[service] }),
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000, ...probeOptions });
      c.once('connect', () => c.end(true, {}, () => resolve(true)));
      c.once('error', () => {
        c.end(true);
        resolve(false);
      });
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on ${url}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
