/**
 * TLS with client certificates, per-device logins and device isolation (issue 8 items 1–2), against
 * both reference broker set-ups: the embedded aedes (sim/broker.ts + broker-policy.ts) and mosquitto
 * (test/support/mosquitto.ts: TLS listener, password_file, acl_file with %u patterns). A device's
 * lean link logs in over TLS and its records reach the pipeline's subscription; an impostor's
 * records on another device's topic never do; a wrong password is refused at CONNECT.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { makeCerts, type CertFiles } from '../test/support/certs.ts';
import { startMosquitto } from '../test/support/mosquitto.ts';
import { startEmbeddedBroker } from './broker.ts';
import { leanLink, ConnackError } from './transport/lean-link.ts';
import { mqttLink } from './transport/mqtt-link.ts';
import type { DeviceLink, DeviceLogin } from './transport/link.ts';
import { devicePassword } from '../protocol/device-credentials.ts';
import { UPLINK_SUBSCRIPTION, batchJson, deviceOfUpTopic } from '../protocol/uplink.ts';
import { IMPOSTOR_SEQ_BASE, impersonate } from './impostor.ts';
import type { TlsMaterial } from '../protocol/tls.ts';

const SECRET = 'isolation-test-secret';
const SERVICE = { username: 'vigil-pipeline', password: 'service-password' };

let certs: CertFiles;
let fleetTls: TlsMaterial;
beforeAll(() => {
  certs = makeCerts(['vigil-fleet']);
  const c = certs.clients['vigil-fleet'] as { cert: string; key: string };
  fleetTls = { ca: certs.read(certs.ca), cert: certs.read(c.cert), key: certs.read(c.key) };
});

interface Seen { readonly device: string; readonly seqs: number[] }

/** The pipeline's side: the service account subscribed to every uplink, over TLS with the fleet's client certificate. */
async function subscriber(url: string): Promise<{ seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const client = mqtt.connect(url, { ...fleetTls, ...SERVICE, reconnectPeriod: 0, protocolVersion: 4 });
  client.on('message', (topic, payload) => {
    const records = (JSON.parse(payload.toString()) as { records: { seq: number }[] }).records;
    seen.push({ device: deviceOfUpTopic(topic) ?? topic, seqs: records.map((r) => r.seq) });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(UPLINK_SUBSCRIPTION, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  return { seen, close: () => new Promise((r) => client.end(true, {}, () => r())) };
}

/** A device's link (lean by default); resolves once it is up, or with the first error when it never is. */
function device(url: string, id: string, login: DeviceLogin, makeLink = leanLink): Promise<{ link: DeviceLink; error?: Error }> {
  return new Promise((resolve) => {
    const link: DeviceLink = makeLink(url, id, {
      onUp: () => resolve({ link }), onDown: () => {}, onAck: () => {}, onError: (error) => resolve({ link, error }),
    }, { reconnectMs: 60_000, keepaliveS: 30, tls: login.tls, deviceSecret: login.deviceSecret });
  });
}

const until = async (ok: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

/** The same checks against each broker set-up. */
function isolationSuite(start: () => Promise<{ url: string; close(): Promise<void>; refusedPublishes?: () => number }>, refusedLoginCode: number): void {
  it('a device logs in over TLS and publishes; an impostor\'s records never reach the pipeline; a wrong password is refused', async () => {
    const broker = await start();
    const sub = await subscriber(broker.url);
    const login: DeviceLogin = { tls: fleetTls, deviceSecret: SECRET };
    const a = await device(broker.url, 'DEV-A', login);
    try {
      expect(a.error).toBeUndefined();
      a.link.publish(batchJson([{ device: 'DEV-A', seq: 1, time: 0, battery: 90, type: 'heartbeat' }]), 1);
      await until(() => sub.seen.length > 0);
      expect(sub.seen).toEqual([{ device: 'DEV-A', seqs: [1] }]);

      const attempt = await impersonate({ brokerUrl: broker.url, impostor: 'DEV-B', victim: 'DEV-A', login, time: 0 });
      // A later publish of the victim's own proves the broker delivered everything before it.
      const again = await device(broker.url, 'DEV-A', login);
      expect(again.error).toBeUndefined();
      again.link.publish(batchJson([{ device: 'DEV-A', seq: 2, time: 0, battery: 90, type: 'heartbeat' }]), 1);
      await until(() => sub.seen.some((s) => s.seqs.includes(2)));
      expect(sub.seen.flatMap((s) => s.seqs)).toEqual([1, 2]);
      expect(sub.seen.flatMap((s) => s.seqs).some((q) => q >= IMPOSTOR_SEQ_BASE)).toBe(false);
      expect(['connection-closed', 'puback']).toContain(attempt.outcome);
      if (broker.refusedPublishes) expect(broker.refusedPublishes()).toBe(1);
      await again.link.close();

      const wrong = await device(broker.url, 'DEV-C', { tls: fleetTls, deviceSecret: 'not-the-secret' });
      await wrong.link.close();
      expect(wrong.error).toBeInstanceOf(ConnackError);
      expect((wrong.error as ConnackError).returnCode).toBe(refusedLoginCode);
    } finally {
      await a.link.close();
      await sub.close();
      await broker.close();
    }
  });
}

describe('device isolation on the embedded aedes broker, over TLS', () => {
  isolationSuite(async () => {
    const b = await startEmbeddedBroker(0, {
      tls: { cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey), ca: certs.read(certs.ca) },
      isolation: { deviceSecret: SECRET, service: SERVICE },
    });
    expect(b.url).toMatch(/^mqtts:/);
    return { url: b.url, close: () => b.close(), refusedPublishes: () => b.refused.refusedPublishes };
  }, 4);

  it('logs the mqtt.js link in as the device over TLS, not as the URL\'s user, and refuses a wrong password', async () => {
    const b = await startEmbeddedBroker(0, {
      tls: { cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey), ca: certs.read(certs.ca) },
      isolation: { deviceSecret: SECRET, service: SERVICE },
    });
    // The service account in the URL must not be what the device logs in as.
    const url = b.url.replace('://', `://${SERVICE.username}:${SERVICE.password}@`);
    try {
      const ok = await device(url, 'DEV-A', { tls: fleetTls, deviceSecret: SECRET }, mqttLink);
      expect(ok.error).toBeUndefined();
      ok.link.publish(batchJson([{ device: 'DEV-A', seq: 1, time: 0, battery: 90, type: 'heartbeat' }]), 1);
      await ok.link.close();
      const wrong = await device(url, 'DEV-B', { tls: fleetTls, deviceSecret: 'not-the-secret' }, mqttLink);
      await wrong.link.close();
      expect(wrong.error?.message).toMatch(/Bad username or password/i);
      expect(b.refused).toEqual({ refusedLogins: 1, refusedPublishes: 0, refusedSubscriptions: 0 });
    } finally {
      await b.close();
    }
  });

  it('refuses a client without a certificate the CA signed', async () => {
    const b = await startEmbeddedBroker(0, { tls: { cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey), ca: certs.read(certs.ca) } });
    try {
      const r = await device(b.url, 'DEV-A', { tls: { ca: fleetTls.ca } });
      await r.link.close();
      expect(r.error).toBeDefined();
    } finally {
      await b.close();
    }
  });
});

describe('device isolation on mosquitto (TLS, client certificates, password_file, acl_file)', () => {
  isolationSuite(async () => {
    const c = certs.clients['vigil-fleet'] as { cert: string; key: string };
    const m = await startMosquitto([], {
      tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey },
      users: { [SERVICE.username]: SERVICE.password, ...Object.fromEntries(['DEV-A', 'DEV-B'].map((id) => [id, devicePassword(SECRET, id)])) },
      serviceUser: SERVICE.username,
      probe: c,
    });
    expect(m.url).toMatch(/^mqtts:/);
    return { url: m.url, close: () => m.stop() };
  }, 5);
});
