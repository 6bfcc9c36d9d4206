/**
 * MQTT over WebSocket with TLS and client certificates (issue 8 item 1, wss://): the embedded broker
 * serving wss:// (sim/broker.ts `websocket`), a device's link (mqtt.js, which a ws endpoint always
 * gets, sim/fleet.ts) and the pipeline's lean session (pipeline/mqtt-session.ts) over it, both
 * checking the broker's certificate against the run's CA and presenting the fleet's certificate. A
 * record goes up, its ack comes back down; a device without a client certificate, or that does not
 * trust the broker's CA, never gets up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type CertFiles } from '../../test/support/certs.ts';
import { startEmbeddedBroker, type RunningBroker } from '../broker.ts';
import { mqttLink } from './mqtt-link.ts';
import type { DeviceLink } from './link.ts';
import { MqttSession } from '../../pipeline/mqtt-session.ts';
import { UPLINK_SUBSCRIPTION, ackJson, ackTopic, batchJson, deviceOfUpTopic } from '../../protocol/uplink.ts';
import type { TlsMaterial } from '../../protocol/tls.ts';
import { Fleet } from '../fleet.ts';
import { DEFAULT_BEHAVIOUR } from '../model/behaviour.ts';
import { planFleet } from '../model/fleet-plan.ts';
import { planFirmwares } from '../model/seed-replay.ts';

let certs: CertFiles;
let fleetTls: TlsMaterial;
let broker: RunningBroker;
beforeAll(async () => {
  certs = makeCerts(['vigil-fleet']);
  const c = certs.clients['vigil-fleet'] as { cert: string; key: string };
  fleetTls = { ca: certs.read(certs.ca), cert: certs.read(c.cert), key: certs.read(c.key) };
  broker = await startEmbeddedBroker(0, { tls: { cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey), ca: certs.read(certs.ca) } }, { websocket: true });
});
afterAll(async () => {
  await broker?.close();
});

const until = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

function device(id: string, tls: TlsMaterial | undefined): { link: DeviceLink; up: () => boolean; acks: number[]; errors: string[] } {
  let up = false;
  const acks: number[] = [];
  const errors: string[] = [];
  const link = mqttLink(broker.url, id, {
    onUp: () => (up = true), onDown: () => (up = false), onAck: (seq) => acks.push(seq), onError: (e) => errors.push(e.message),
  }, { reconnectMs: 60_000, keepaliveS: 30, tls });
  return { link, up: () => up, acks, errors };
}

describe('MQTT over WebSocket with TLS (wss://)', () => {
  it('a device publishes through the pipeline\'s session and gets its ack back, both over wss with client certificates', async () => {
    expect(broker.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    const seen: { device: string | undefined; seqs: number[] }[] = [];
    let subscribed: number | undefined;
    const errors: string[] = [];
    const session = new MqttSession({
      url: broker.url, tls: fleetTls, clientId: 'vigil-pipeline', subscription: UPLINK_SUBSCRIPTION,
      onConnect: () => {}, onSubscribed: (qos) => (subscribed = qos), onOffline: () => {}, onError: (m) => errors.push(m),
      onMessage: (topic, payload) => {
        const id = deviceOfUpTopic(topic);
        const seqs = (JSON.parse(payload.toString()) as { records: { seq: number }[] }).records.map((r) => r.seq);
        seen.push({ device: id, seqs });
        if (id) session.publish(ackTopic(id), ackJson(id, Math.max(...seqs)));
      },
    });
    await until('the pipeline subscribed', () => subscribed !== undefined);
    expect(subscribed).toBe(1);
    const d = device('PSEM-00001', fleetTls);
    await until('the device up', d.up);
    d.link.publish(batchJson([{ device: 'PSEM-00001', seq: 1, time: Date.now(), battery: 90, type: 'heartbeat' }]), 1);
    await until('the ack', () => d.acks.length > 0);
    expect(seen).toEqual([{ device: 'PSEM-00001', seqs: [1] }]);
    expect(d.acks).toEqual([1]);
    expect(errors).toEqual([]);
    await d.link.close();
    await session.end();
  });

  it('refuses a device without a client certificate, and a device that does not trust the broker\'s CA', async () => {
    const noCert = device('PSEM-00002', { ca: fleetTls.ca });
    const noCa = device('PSEM-00003', { cert: fleetTls.cert, key: fleetTls.key });
    await until('both refused', () => noCert.errors.length > 0 && noCa.errors.length > 0);
    expect(noCert.up()).toBe(false);
    expect(noCa.up()).toBe(false);
    expect(noCa.errors[0]).toMatch(/self[- ]signed|unable to verify|certificate/i);
    await Promise.all([noCert.link.close(), noCa.link.close()]);
  });

  it('a fleet whose endpoint is wss:// dials it (with mqtt.js: the lean link speaks TCP and TLS only)', async () => {
    const T0 = Date.parse('2021-10-25T12:00:00Z');
    const plan = planFleet({ seed: 3, mix: { pse: 2, psem: 2, bar: 0 }, cities: ['paris'], behaviour: DEFAULT_BEHAVIOUR, start: T0 });
    const fleet = new Fleet({ endpointOf: () => broker.url, firmwares: planFirmwares(plan, 3, T0, T0 + 3_600_000, 60), seed: 3, speed: 60, connectRatePerS: 100, onRecord: () => {}, login: { tls: fleetTls } });
    expect(await fleet.connect(5000)).toBe(4);
    expect(fleet.stats.linkErrors).toBe(0);
    await fleet.close();
  });
});
