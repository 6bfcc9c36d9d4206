/**
 * The impersonation attempt (issue 8 item 2): a device logs in as itself — its own credentials,
 * its own client id — and publishes records on another device's uplink topic, claiming to be it.
 * A broker set-up with device isolation refuses the publish; how it refuses differs:
 *   - aedes (sim/broker-policy.ts) closes the impostor's connection;
 *   - mosquitto 2 with MQTT 3.1.1 still sends the PUBACK and silently drops the message.
 * So the outcome seen here is only a hint. Whether the refusal held is decided the way a tester
 * would: the victim's stored records, read from the pipeline's ingest summary, contain none of the
 * impostor's seqs (IMPOSTOR_SEQ_BASE and up, far above anything a device makes in a run).
 */
import mqtt from 'mqtt';
import { batchJson, upTopic, type UplinkRecord } from '../protocol/uplink.ts';
import { deviceCredentials } from '../protocol/device-credentials.ts';
import { withoutUserinfo } from '../protocol/redact.ts';
import type { DeviceLogin } from './transport/link.ts';

/** The first seq an impostor claims: a device making one record a second would need 30 years to reach it. */
export const IMPOSTOR_SEQ_BASE = 1_000_000_000;

/** What the impostor's client saw. */
export type ImpostorOutcome = 'connection-closed' | 'puback' | 'login-refused' | 'error';

export interface ImpersonationAttempt {
  readonly impostor: string;
  readonly victim: string;
  /** The seqs claimed for the victim: [first, last]. */
  readonly seqs: readonly [number, number];
  readonly outcome: ImpostorOutcome;
}

export interface ImpersonateOptions {
  readonly brokerUrl: string;
  readonly impostor: string;
  readonly victim: string;
  readonly login: DeviceLogin;
  /** Virtual time the forged records claim. */
  readonly time: number;
  /** Records forged (default 3). */
  readonly records?: number;
  readonly timeoutMs?: number;
}

/** The forged batch: tamper events (an alarm, so a broker that lets them through also shows as spurious alarms). */
export function forgedRecords(victim: string, time: number, n: number): UplinkRecord[] {
  return Array.from({ length: n }, (_, i) => ({ device: victim, seq: IMPOSTOR_SEQ_BASE + i, time, battery: 80, type: 'event', event: 'tamper' }));
}

export function impersonate(o: ImpersonateOptions): Promise<ImpersonationAttempt> {
  const n = o.records ?? 3;
  const seqs: [number, number] = [IMPOSTOR_SEQ_BASE, IMPOSTOR_SEQ_BASE + n - 1];
  const creds = o.login.deviceSecret === undefined ? {} : deviceCredentials(o.login.deviceSecret, o.impostor);
  return new Promise((resolve) => {
    const client = mqtt.connect(withoutUserinfo(o.brokerUrl), {
      clientId: o.impostor, clean: true, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: o.timeoutMs ?? 5000, ...o.login.tls, ...creds,
    });
    let settled = false;
    const done = (outcome: ImpostorOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true, {}, () => resolve({ impostor: o.impostor, victim: o.victim, seqs, outcome }));
    };
    const timer = setTimeout(() => done('error'), (o.timeoutMs ?? 5000) * 2);
    let connected = false;
    client.on('connect', () => {
      connected = true;
      client.publish(upTopic(o.victim), batchJson(forgedRecords(o.victim, o.time, n)), { qos: 1 }, (err) => done(err ? 'connection-closed' : 'puback'));
    });
    client.on('close', () => done(connected ? 'connection-closed' : 'login-refused'));
    client.on('error', (err) => done(/refused|not authori[sz]ed|bad user/i.test(err.message) ? 'login-refused' : 'error'));
  });
}

/** Whether the victim's stored records hold any of the impostor's seqs, from its highest stored seq. */
export function impostorStored(victimMaxSeq: number | undefined): boolean {
  return (victimMaxSeq ?? 0) >= IMPOSTOR_SEQ_BASE;
}
