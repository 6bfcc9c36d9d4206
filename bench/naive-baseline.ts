/**
 * The naive baseline of `npm run bench`: what one would write without Vigil — one mqtt.js client and
 * one `setInterval(1000)` per device, publishing a one-record position batch per second (QoS 1,
 * persistent session, client id per device). No application acks, no outbox, no virtual clock.
 * Connections are spread exactly like Vigil's fleet spreads them (sim/fleet.ts), at the same rate.
 *
 *   node --import tsx bench/naive-baseline.ts '<BenchParams JSON>'   (run by fleet.bench.ts)
 */
import mqtt, { type MqttClient } from 'mqtt';
import { encodeBatch, upTopic } from '../protocol/uplink.ts';
import { measure, paramsFromArgv, type Contender } from './measure.ts';

const p = paramsFromArgv();

await measure('baseline', p, (): Contender => {
  const clients: MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  const intervals: NodeJS.Timeout[] = [];
  let connected = 0;
  let publishes = 0;
  let pubacks = 0;
  let errors = 0;
  let disconnects = 0;

  const startDevice = (i: number): void => {
    // Ids of their own, so the broker's persistent sessions never mix with Vigil's devices.
    const id = `BASE-${String(i + 1).padStart(5, '0')}`;
    const topic = upTopic(id);
    const client = mqtt.connect(p.url, {
      clientId: id, clean: false, protocolVersion: 4, keepalive: 60, reconnectPeriod: 1000, connectTimeout: 10_000,
    });
    clients.push(client);
    let seq = 0;
    let up = false;
    let interval: NodeJS.Timeout | undefined;
    client.on('connect', () => {
      if (!up) connected++;
      up = true;
      if (interval) return;
      // The device's own timer, started when it first connects (so the fleet's ticks are spread
      // like its connects); it keeps ticking through reconnects and skips while offline.
      interval = setInterval(() => {
        if (!client.connected) return;
        seq++;
        const payload = encodeBatch([{
          device: id, seq, time: Date.now(), battery: 80, type: 'position',
          lat: 48.85 + (i % 100) * 1e-4 + (seq % 10) * 1e-5, lon: 2.35 + (seq % 7) * 1e-5, accuracy: 5,
        }]);
        client.publish(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1 }, (err) => {
          if (err) errors++;
          else pubacks++;
        });
        publishes++;
      }, 1000);
      intervals.push(interval);
    });
    const down = (): void => {
      if (!up) return;
      up = false;
      connected--;
      disconnects++;
    };
    client.on('close', down);
    client.on('offline', down);
    client.on('error', () => errors++);
  };

  return {
    start() {
      // Same spread as Fleet.start: slot / rate, plus up to one slot of jitter.
      for (let i = 0; i < p.devices; i++) {
        timers.push(setTimeout(() => startDevice(i), (i / p.connectRatePerS) * 1000 + Math.random() * (1000 / p.connectRatePerS)));
      }
    },
    connected: () => connected,
    publishes: () => publishes,
    records: () => ({ sent: publishes, resent: 0 }),
    // A broker PUBACK: the only ack a naive device gets.
    acks: () => pubacks,
    extra: () => ({ errors, disconnects }),
    // mqtt.js redials each client after its reconnectPeriod (1 s, no jitter).
    dropAll: () => {
      for (const c of clients) c.stream.destroy();
    },
    errors: () => errors,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const t of intervals) clearInterval(t);
      await Promise.all(clients.map((c) => c.endAsync(true)));
    },
  };
});
