/**
 * A mosquitto (the Debian package) that Vigil starts, configures and can restart: `vigil run
 * --mosquitto`, the reference set-up for what the embedded aedes broker (sim/broker.ts) does not
 * model — a broker's queue limits (DOMAIN.md "Brokers drop too": mosquitto discards past
 * `max_queued_messages`) and a restart with persistence (issue 8).
 *
 * It listens on loopback only, on a port of its own, and keeps its config, persistence file and log
 * in one directory (the run directory's `mosquitto/`). `kill()` stops it as an upgrade does, with
 * SIGTERM: mosquitto then writes its persistence file (sessions, subscriptions, queued QoS 1
 * messages) before it exits; `restart()` starts it again on the same port, from that file. A
 * SIGKILL would lose whatever arrived since the last autosave: that is a crash, which the embedded
 * broker's broker-restart already plays.
 *
 * Tests and benches start theirs through test/support/mosquitto.ts, on this same code.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { UPLINK_TOPIC_PREFIX } from '../protocol/uplink.ts';
import type { RunningBroker } from './broker.ts';

/** The broker's limits, as a scenario's `broker` section gives them (scenarios/schema.ts). */
export interface MosquittoLimits {
  /** mosquitto `max_queued_messages`: per client, QoS 1 messages queued past the in-flight window; 0 = no limit. */
  readonly maxQueuedMessages?: number | undefined;
  /** mosquitto `max_inflight_messages`: per client, QoS 1 messages sent and not yet acknowledged; 0 = no limit. */
  readonly maxInflightMessages?: number | undefined;
  /** Keep sessions and queued messages across a restart (mosquitto `persistence`). */
  readonly persistence?: boolean | undefined;
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

export interface MosquittoOptions {
  /** Where its config, persistence file and password files go (created if missing). */
  readonly dir: string;
  readonly limits?: MosquittoLimits | undefined;
  readonly security?: MosquittoSecurity | undefined;
  /** More mosquitto.conf lines, last (tests: log levels). */
  readonly extraConfig?: readonly string[] | undefined;
  /** Also append what it logs to this file (a run's mosquitto/mosquitto.log). */
  readonly logFile?: string | undefined;
}

export interface ManagedMosquitto extends RunningBroker {
  readonly port: number;
  /** Its pid now (a new one after each restart); undefined while it is stopped. */
  readonly pid: number | undefined;
  /** What mosquitto logged so far, its last 64 KiB (errors, warnings, and what extraConfig asks for). */
  log(): string;
}

let found: { binary: string | undefined } | undefined;

/** Where Debian puts it: /usr/sbin, which a non-root PATH often lacks. Looked for once per process. */
export function mosquittoBinary(): string | undefined {
  found ??= {
    binary: ['mosquitto', '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find((candidate) => {
      const r = spawnSync(candidate, ['-h'], { encoding: 'utf8' });
      // `mosquitto -h` prints its usage and exits 3; a missing binary gives ENOENT.
      return r.error === undefined && /mosquitto version/.test(r.stdout + r.stderr);
    }),
  };
  return found.binary;
}

/** The config lines, password file and ACL of `security`, written into `dir`. */
function securityConfig(dir: string, security: MosquittoSecurity): string[] {
  const { tls, users, serviceUser } = security;
  const lines: string[] = [];
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

/** Binds `port` (0: any) on loopback and frees it again; resolves the port, or undefined when it is taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => resolve(bound));
    });
  });
}

export async function freePort(): Promise<number> {
  const port = await tryPort(0);
  if (port === undefined) throw new Error('no free loopback port');
  return port;
}

/**
 * A free port below the kernel's ephemeral range (ip_local_port_range, from 32768 by default): the
 * broker restarts on the same port while 15,000 devices redial, and each of their connections takes
 * an ephemeral port — one of them must not be sitting on the broker's when it comes back.
 */
async function brokerPort(): Promise<number> {
  let low = 32_768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: any free port
  }
  for (let attempt = 0; attempt < 50 && low > 11_000; attempt++) {
    const port = await tryPort(10_000 + Math.floor(Math.random() * (low - 11_000)));
    if (port !== undefined) return port;
  }
  return freePort();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long a stop may take before SIGKILL: writing the persistence file of a large fleet takes a moment. */
const STOP_GRACE_MS = 30_000;
const READY_TIMEOUT_MS = 15_000;
/** What log() returns at most: the end of what mosquitto printed. */
const LOG_KEPT = 64 * 1024;

export async function startManagedMosquitto(o: MosquittoOptions): Promise<ManagedMosquitto> {
  const binary = mosquittoBinary();
  if (binary === undefined) throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto; it lives in /usr/sbin)');
  mkdirSync(o.dir, { recursive: true });
  const port = await brokerPort();
  const security = o.security ?? {};
  const limits = o.limits ?? {};
  const conf = join(o.dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    ...(security.users ? [] : ['allow_anonymous true']),
    // Run as root, mosquitto would switch to the `mosquitto` user, which cannot write our
    // directories: it stays the user we are (ignored when not root).
    `user ${userInfo().username}`,
    // One connection per device, 15,000 and more: no limit (mosquitto's default, stated for whoever edits this).
    'max_connections -1',
    ...(limits.maxQueuedMessages !== undefined ? [`max_queued_messages ${limits.maxQueuedMessages}`] : []),
    ...(limits.maxInflightMessages !== undefined ? [`max_inflight_messages ${limits.maxInflightMessages}`] : []),
    ...(limits.persistence ? ['persistence true', `persistence_location ${o.dir}/`, 'persistence_file mosquitto.db'] : ['persistence false']),
    ...securityConfig(o.dir, security),
    'log_dest stderr', 'log_type error', 'log_type warning',
    ...(o.extraConfig ?? []),
    '',
  ].join('\n'));

  const url = `${security.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`;
  const service = security.serviceUser;
  const probeOptions = {
    ...(security.tls && { ca: readFileSync(security.tls.ca) }),
    ...(security.probe?.cert !== undefined && { cert: readFileSync(security.probe.cert) }),
    ...(security.probe?.key !== undefined && { key: readFileSync(security.probe.key) }),
    ...(service !== undefined && { username: service, password: security.users?.[service] }),
  };
  let log = '';
  let child: ChildProcess | undefined;
  let closed = false;
  const refused = { refusedLogins: 0, refusedPublishes: 0, refusedSubscriptions: 0 };

  const start = async (): Promise<void> => {
    const c = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr?.on('data', (d: Buffer) => {
      // The file keeps all of it; memory only the last LOG_KEPT characters (a long run's notices).
      log = (log + d.toString()).slice(-LOG_KEPT);
      if (o.logFile !== undefined) appendFileSync(o.logFile, d);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (c.exitCode !== null) {
        // Its port can be held for a moment after a stop (a closing connection): try again briefly.
        if (/Address already in use/.test(log) && Date.now() < deadline) {
          log = log.replace(/.*Address already in use.*\n?/g, '');
          await sleep(200);
          return start();
        }
        throw new Error(`mosquitto exited with code ${c.exitCode} on start: ${log.trim().split('\n').slice(-3).join(' / ')}`);
      }
      const ok = await new Promise<boolean>((resolve) => {
        const probe = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000, ...probeOptions });
        probe.once('connect', () => probe.end(true, {}, () => resolve(true)));
        probe.once('error', () => {
          probe.end(true);
          resolve(false);
        });
      });
      if (ok) return;
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`mosquitto did not accept connections on ${url} within ${READY_TIMEOUT_MS / 1000} s: ${log.trim()}`);
      }
      await sleep(100);
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const hard = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(hard);
  };

  await start();
  return {
    url,
    port,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined;
    },
    log: () => log,
    kill: stop,
    restart: async () => {
      if (closed) throw new Error('mosquitto was closed');
      if (child) await stop();
      // A persistence file that mosquitto did not finish writing would be read back corrupt: it writes
      // a temporary file and renames it, so a file that exists is whole.
      if (limits.persistence && !existsSync(join(o.dir, 'mosquitto.db'))) log += 'warning: no persistence file was written at the stop\n';
      await start();
    },
    close: async () => {
      closed = true;
      await stop();
    },
    // Refusals are the embedded broker's count (sim/broker-policy.ts); this mosquitto runs no
    // isolation (a run refuses --mosquitto with it), so they stay zero.
    refused,
  };
}
