/**
 * A device's MQTT link: mqtt.js, one connection per device, client id = device id, persistent
 * session (clean: false), QoS 1 both ways (DESIGN.md "Uplink").
 *
 * The first connection of a run starts clean: a session left on the broker by an earlier run with
 * the same device ids would deliver that run's acks, and an ack for a seq of another run would make
 * the firmware drop records the pipeline never stored. From the first CONNACK on, sessions persist.
 */
import mqtt from 'mqtt';
import { ackTopic, decodeAck, upTopic } from '../../protocol/uplink.ts';
import { redialDelayMs } from './backoff.ts';
import { deviceCredentials } from '../../protocol/device-credentials.ts';
import { mqttDefaultPort } from '../../protocol/tls.ts';
import { withoutUserinfo } from '../../protocol/redact.ts';
import { endpointNow, type DeviceLink, type Endpoint, type LinkEvents, type LinkOptions } from './link.ts';

/**
 * `endpoint` is asked again before every reconnect, as a device resolves its broker's name again
 * when it dials: an endpoint move (the name now points elsewhere) is followed from the next dial.
 */
export function mqttLink(endpoint: Endpoint, deviceId: string, events: LinkEvents, opts: LinkOptions): DeviceLink {
  const topic = upTopic(deviceId);
  const acks = ackTopic(deviceId);
  const resolve = (): string => endpointNow(endpoint);
  let dialled = resolve();
  let up = false;
  // A device logs in as itself: a user:password@ in the broker URL (the probe's, the pipeline's) is not its own.
  const credentials = opts.deviceSecret === undefined ? undefined : deviceCredentials(opts.deviceSecret, deviceId);
  const client = mqtt.connect(credentials ? withoutUserinfo(dialled) : dialled, {
    clientId: deviceId,
    clean: true,
    protocolVersion: 4,
    keepalive: opts.keepaliveS,
    reconnectPeriod: opts.backoff ? redialDelayMs(opts.backoff, deviceId, 0) : opts.reconnectMs,
    connectTimeout: 10_000,
    resubscribe: false,
    // Used by mqtts:// only; a device checks the broker's certificate against the run's CA.
    ...opts.tls,
    ...(credentials && { username: credentials.username, password: credentials.password }),
  });
  const onUp = (): void => {
    up = true;
    events.onUp();
  };
  client.on('connect', (connack) => {
    // A resumed session keeps its subscriptions [MQTT-3.2.2-2]: subscribe only when the broker has
    // none (the first, clean connection; a broker that lost its sessions), as lean-link.ts does.
    const resumed = !client.options.clean && connack.sessionPresent;
    client.options.clean = false;
    if (resumed) {
      onUp();
      return;
    }
    client.subscribe(acks, { qos: 1 }, (err) => {
      if (err) events.onError(err);
      else onUp();
    });
  });
  client.on('message', (_topic, payload) => {
    try {
      events.onAck(decodeAck(payload).ack);
    } catch (err) {
      events.onError(err as Error);
    }
  });
  const down = (): void => {
    if (!up) return;
    up = false;
    events.onDown();
  };
  client.on('close', down);
  // With a backoff, mqtt.js's reconnectPeriod is set one redial ahead: mqtt.js arms its reconnect
  // timer from its own 'close' listener, which runs before this one, so the period set here is the
  // next redial's (attempt 0 from each connect on). No dial pacer: the mqtt.js link is the slow path
  // (sim/transport/lean-link.ts is the fleet's default).
  if (opts.backoff) {
    const backoff = opts.backoff;
    let attempts = 0;
    client.on('connect', () => {
      attempts = 0;
      client.options.reconnectPeriod = redialDelayMs(backoff, deviceId, 0);
    });
    client.on('close', () => {
      client.options.reconnectPeriod = redialDelayMs(backoff, deviceId, ++attempts);
    });
  }
  // Emitted right before each redial: mqtt.js then dials client.options again (the same object its
  // stream builder reads), so the endpoint is resolved at the dial, not a reconnect period earlier.
  client.on('reconnect', () => {
    const next = resolve();
    if (next !== dialled) {
      dialled = next;
      const u = new URL(next);
      Object.assign(client.options, { host: u.hostname, hostname: u.hostname, port: Number(u.port || mqttDefaultPort(u.protocol)) });
    }
  });
  client.on('offline', down);
  client.on('error', (err) => events.onError(err));
  return {
    get connected() {
      return up && client.connected;
    },
    publish(payload, qos, onSent) {
      client.publish(topic, typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos }, onSent && ((err) => {
        if (!err) onSent();
      }));
    },
    reconnect() {
      // Like a device dropping its TCP session: mqtt.js sees the close and reconnects after its period.
      client.stream?.destroy();
    },
    close: () => new Promise<void>((resolve) => client.end(true, {}, () => resolve())),
  };
}
