/**
 * MQTT ingest: one persistent session (clean: false, stable client id) subscribed to every device's
 * uplink at QoS 1, so messages the broker queues while the pipeline is down reach it after a restart.
 * Batches are decoded and queued on the engine; a commit loop flushes them every few ms (group
 * commit), and acks go out only after the commit (DESIGN.md "Uplink").
 *
 * The broker PUBACK is sent on receipt, not after the commit: the broker sends a session a bounded
 * number of unacknowledged publishes (mosquitto's max_inflight_messages), so holding PUBACK until the
 * commit would cap ingest at that many messages per commit. Nothing is lost by it: the device keeps
 * every record until the application ack covers it, and resends.
 *
 * The session is pipeline/mqtt-session.ts (lean, on mqtt-packet), not mqtt.js: docs/PERFORMANCE.md.
 */
import { UPLINK_SUBSCRIPTION, UplinkDecodeError, ackJson, ackTopic, decodeBatch, deviceOfUpTopic } from '../protocol/uplink.ts';
import type { Engine } from './engine.ts';
import { limitedLog } from './log.ts';
import { redactUrl } from '../protocol/redact.ts';
import type { TlsMaterial } from '../protocol/tls.ts';
import { MqttSession } from './mqtt-session.ts';

export interface IngestOptions {
  brokerUrl: string;
  clientId: string;
  engine: Engine;
  log: (line: string) => void;
  /** Real ms between group commits while records arrive. */
  commitIntervalMs?: number;
  /** Pending records that trigger a commit at once instead of waiting for the tick. */
  commitBatchRecords?: number;
  /** CA and client certificate for an mqtts:// broker. */
  tls?: TlsMaterial | undefined;
}

export class Ingest {
  private readonly session: MqttSession;
  private readonly engine: Engine;
  private readonly badLog: (line: string) => void;
  private readonly interval: number;
  private readonly batchRecords: number;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  /** Real ms the last commit took (fsync included). */
  private lastCommitMs = 0;
  private readyResolve!: () => void;
  /** Resolves once the first subscription is granted. */
  readonly ready: Promise<void>;

  constructor(private readonly opts: IngestOptions) {
    this.engine = opts.engine;
    this.badLog = limitedLog(opts.log);
    this.interval = opts.commitIntervalMs ?? 10;
    this.batchRecords = opts.commitBatchRecords ?? 5000;
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    // Persistent (clean: false, stable client id); subscribes on every connect, also when the broker lost the session.
    this.session = new MqttSession({
      url: opts.brokerUrl,
      clientId: opts.clientId,
      // Used by mqtts:// only. A username and password come as the URL's userinfo.
      tls: opts.tls,
      subscription: UPLINK_SUBSCRIPTION,
      keepaliveS: 30,
      reconnectMs: 1000,
      connectTimeoutMs: 10_000,
      onConnect: (sessionPresent) => opts.log(`mqtt connected to ${redactUrl(opts.brokerUrl)} as ${opts.clientId} (session present: ${String(sessionPresent)})`),
      onSubscribed: (qos) => {
        if (qos === undefined || qos > 2) opts.log(`mqtt subscribe to ${UPLINK_SUBSCRIPTION} failed: granted ${String(qos)}`);
        else this.readyResolve();
      },
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      // While the broker is down this fires on every reconnect attempt: rate-limited.
      onError: (message) => this.badLog(`mqtt error: ${message}`),
      onOffline: () => opts.log('mqtt offline, reconnecting'),
    });
  }

  get connected(): boolean {
    return this.session.connected;
  }

  /**
   * The slow-consumer fault (protocol/pipeline-admin.ts): each inbound publish is held `ms` before
   * it is taken and PUBACKed, and nothing more is read meanwhile, so the whole session slows down
   * and the broker queues for it.
   */
  setSlow(ms: number): void {
    this.session.setSlow(ms);
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.closed) return;
    const device = deviceOfUpTopic(topic);
    if (device === undefined) {
      this.engine.stats.invalid++;
      this.badLog(`ignored message on ${topic}: not an uplink topic`);
      return;
    }
    let records;
    try {
      records = decodeBatch(payload, device).records;
    } catch (err) {
      this.engine.stats.invalid++;
      this.badLog(`ignored batch from ${device}: ${err instanceof UplinkDecodeError ? err.reason : String(err)}`);
      return;
    }
    if (!this.engine.accept(device, records)) {
      this.badLog(`ignored batch from ${device}: device not provisioned`);
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.engine.pendingRecords >= this.batchRecords) {
      this.immediate ??= setImmediate(() => this.commit());
    } else {
      // At least as long as the last commit took: under load commits grow instead of taking the
      // whole event loop (each one an fsync; profiled at 25–40 % of wall time at the replay's rate).
      this.timer ??= setTimeout(() => this.commit(), Math.max(this.interval, this.lastCommitMs));
    }
  }

  private commit(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const t0 = performance.now();
    this.engine.flush();
    this.lastCommitMs = performance.now() - t0;
  }

  /**
   * Publishes `encodeAck(device, contiguousSeq)` for each device, in one socket write. Skipped while
   * offline, and not resent if the connection drops before the broker has them: devices resend, and
   * a duplicate is re-acked. The payload goes as the JSON string (encodeAck's bytes): mqtt-packet
   * writes it straight into the packet.
   */
  publishAcks(acks: ReadonlyMap<string, number>): void {
    if (!this.session.connected) return;
    this.session.corked(() => {
      for (const [device, seq] of acks) this.session.publish(ackTopic(device), ackJson(device, seq));
    });
  }

  /** Stops taking messages, commits what is pending (acks go out), then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.engine.flush();
    this.closed = true;
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    await this.session.end();
  }
}
