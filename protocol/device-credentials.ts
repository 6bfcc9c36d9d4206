/**
 * Per-device MQTT credentials (issue 8 item 2): each device logs in with its own username — its
 * device id — and a password derived from one run secret, HMAC-SHA256(secret, deviceId).
 *
 * Why a derived password rather than a client certificate per device: the fleet is 15,000 devices,
 * and a broker checks a derived password with one HMAC (aedes, sim/broker.ts) or a password file
 * line (mosquitto), while 15,000 certificates would each need signing before a run and a TLS
 * handshake with a client-certificate check per connection. The secret is all a broker set-up needs
 * to know every device's password; a device knows only its own. TLS client certificates still work
 * on top (one for the fleet, --cert/--key), for brokers that require one.
 *
 * Broker side: the device's username must equal the device id in its topics, so an ACL can say
 * "write vigil/v1/devices/%u/up, read vigil/v1/devices/%u/ack" (test/support/mosquitto.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The environment variable a run's device secret comes from; a run generates one when it is unset. */
export const DEVICE_SECRET_ENV = 'VIGIL_DEVICE_SECRET';

export interface MqttCredentials {
  readonly username: string;
  readonly password: string;
}

/** The password a device logs in with: HMAC-SHA256(secret, deviceId), hex. */
export function devicePassword(secret: string, deviceId: string): string {
  return createHmac('sha256', secret).update(deviceId).digest('hex');
}

export function deviceCredentials(secret: string, deviceId: string): MqttCredentials {
  return { username: deviceId, password: devicePassword(secret, deviceId) };
}

/** Whether `password` is `deviceId`'s under `secret` (constant-time compare). */
export function devicePasswordOk(secret: string, deviceId: string, password: Buffer | string | undefined): boolean {
  if (password === undefined) return false;
  const given = Buffer.isBuffer(password) ? password : Buffer.from(password);
  const want = Buffer.from(devicePassword(secret, deviceId));
  return given.length === want.length && timingSafeEqual(given, want);
}
