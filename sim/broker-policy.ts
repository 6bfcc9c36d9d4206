/**
 * Device isolation on the embedded broker (issue 8 item 2), as aedes policy hooks: a device logs in
 * as itself (username = client id = device id, password = HMAC(run secret, device id),
 * protocol/device-credentials.ts), publishes only to its own uplink topic and subscribes only to its
 * own ack topic. The service account (the pipeline's ingest) may do everything it needs.
 *
 * Cost: one HMAC per CONNECT and a string compare per PUBLISH; still, it is on only when a run asks
 * for it (scenario `isolation: true`), because loads from elsewhere (k6, --devices-only, HIL
 * bridges) dial the embedded broker anonymously.
 */
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { devicePasswordOk, type MqttCredentials } from '../protocol/device-credentials.ts';
import { ackTopic, upTopic } from '../protocol/uplink.ts';

export interface IsolationPolicy {
  readonly deviceSecret: string;
  /** The account allowed every topic: the pipeline's ingest (subscribes to every uplink, publishes acks). */
  readonly service: MqttCredentials;
}

/** What the policy refused, for run.json (a refused PUBLISH closes the impostor's connection). */
export interface IsolationStats {
  /** CONNECTs with a wrong or missing login. */
  refusedLogins: number;
  /** PUBLISHes to a topic that is not the device's own uplink. */
  refusedPublishes: number;
  /** SUBSCRIBEs to a filter that is not the device's own ack topic. */
  refusedSubscriptions: number;
}

const SERVICE = Symbol('vigil service account');
type Tagged = Client & { [SERVICE]?: true };

function authError(message: string, returnCode: number): AuthenticateError {
  // CONNACK 4: bad user name or password; 5: not authorized [MQTT-3.2.2.3].
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export function isolationHooks(policy: IsolationPolicy, stats: IsolationStats): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const servicePassword = Buffer.from(policy.service.password);
  return {
    authenticate: (client, username, password, done) => {
      if (username === policy.service.username && password !== undefined && password.equals(servicePassword)) {
        (client as Tagged)[SERVICE] = true;
        return done(null, true);
      }
      // The client id must be the username: the ACL below is written on the client id.
      if (username === undefined || username !== client.id || !devicePasswordOk(policy.deviceSecret, username, password)) {
        stats.refusedLogins++;
        return done(authError(`device login refused for client ${client.id}`, 4), false);
      }
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      // client null: a publish of the broker itself (a will, $SYS).
      if (client === null || (client as Tagged)[SERVICE] || packet.topic === upTopic(client.id)) return done(null);
      stats.refusedPublishes++;
      done(new Error(`${client.id} may not publish to ${packet.topic}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      if ((client as Tagged)[SERVICE] || sub.topic === ackTopic(client.id)) return done(null, sub);
      stats.refusedSubscriptions++;
      // null: SUBACK 0x80, the subscription refused, the connection kept [MQTT-3.9.3].
      done(null, null);
    },
  };
}
