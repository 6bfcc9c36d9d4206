/**
 * The managed mosquitto (sim/mosquitto.ts) against the real Debian package: a restart keeps a
 * persistent session's queued QoS 1 message when persistence is on, and loses it when it is off —
 * the difference the broker-restart fault of `vigil run --mosquitto` rests on.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/support/cli.ts';
import { startManagedMosquitto, type ManagedMosquitto } from './mosquitto.ts';

let broker: ManagedMosquitto | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

const connect = (url: string, clientId: string): Promise<MqttClient> => new Promise((resolve, reject) => {
  const c = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 0, connectTimeout: 3000 });
  c.once('connect', () => resolve(c));
  c.once('error', reject);
});
const end = (c: MqttClient): Promise<void> => new Promise((r) => c.end(false, {}, () => r()));

/** A subscriber with a persistent session goes away; a QoS 1 message is queued for it; the broker restarts; what does the subscriber get? */
async function queuedAcrossRestart(m: ManagedMosquitto): Promise<string[]> {
  const sub = await connect(m.url, 'pipeline');
  await sub.subscribeAsync('t/ack', { qos: 1 });
  await end(sub);
  const pub = await connect(m.url, 'device');
  await pub.publishAsync('t/ack', 'queued while away', { qos: 1 });
  await end(pub);
  const pidBefore = m.pid;
  await m.kill();
  expect(m.running).toBe(false);
  await m.restart();
  expect(m.pid).not.toBe(pidBefore);
  const got: string[] = [];
  const back = mqtt.connect(m.url, { clientId: 'pipeline', clean: false, reconnectPeriod: 0 });
  back.on('message', (_t, payload) => got.push(payload.toString()));
  await new Promise<void>((resolve, reject) => {
    back.once('connect', () => resolve());
    back.once('error', reject);
  });
  await new Promise((r) => setTimeout(r, 500));
  await end(back);
  return got;
}

describe('managed mosquitto', () => {
  it('with persistence, a restart keeps sessions and queued QoS 1 messages (written at SIGTERM)', async () => {
    const dir = tempDir();
    broker = await startManagedMosquitto({ dir, limits: { persistence: true, maxQueuedMessages: 10 } });
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(await queuedAcrossRestart(broker)).toEqual(['queued while away']);
    expect(existsSync(join(dir, 'mosquitto.db'))).toBe(true);
  });

  it('without persistence, the same restart loses them', async () => {
    broker = await startManagedMosquitto({ dir: tempDir() });
    expect(await queuedAcrossRestart(broker)).toEqual([]);
  });

  it('applies max_queued_messages: past it, messages for an offline session are dropped', async () => {
    broker = await startManagedMosquitto({ dir: tempDir(), limits: { maxQueuedMessages: 2, maxInflightMessages: 1 }, extraConfig: ['log_type notice'] });
    const sub = await connect(broker.url, 'slow');
    await sub.subscribeAsync('q', { qos: 1 });
    await end(sub);
    const pub = await connect(broker.url, 'dev');
    for (let i = 0; i < 5; i++) await pub.publishAsync('q', String(i), { qos: 1 });
    await end(pub);
    const got: string[] = [];
    const back = mqtt.connect(broker.url, { clientId: 'slow', clean: false, reconnectPeriod: 0 });
    back.on('message', (_t, p) => got.push(p.toString()));
    await new Promise((r) => setTimeout(r, 700));
    await end(back);
    expect(got).toEqual(['0', '1']);
    expect(broker.log()).toMatch(/Outgoing messages are being dropped for client slow/);
  });
});
