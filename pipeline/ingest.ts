/**
 * MQTT ingest: one persistent session (clean: false, stable client id) subscribed to every device's
 * uplink at QoS 1, so messages the broker queues while the pipeline is down reach it after a restart.
 * Batches are decoded and queued on the engine; a commit loop flushes them every few ms (group
 * commit), and acks go out only after the commit (DESIGN.md "Uplink").
 *
 * The broker PUBACK is sent on receipt, not after the commit: mqtt.js handles inbound publishes one
 * at a time, so holding PUBACK until the commit would cap ingest at one message per commit. Nothing is
 * lost by it: the device keeps every record until the application ack covers it, and resends.
 */
import { connect, type MqttClient } from 'mqtt';
import { UPLINK_SUBSCRIPTION, UplinkDecodeError, ackJson, ackTopic, decodeBatch, deviceOfUpTopic } from '../protocol/uplink.ts';
import type { Engine } from './engine.ts';
import { limitedLog } from './log.ts';
import { redactUrl } from '../protocol/redact.ts';
import type { TlsMaterial } from '../protocol/tls.ts';

const ACK_OPTS = { qos: 1 } as const;

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
  private readonly client: MqttClient;
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
    this.client = connect(opts.brokerUrl, {
      protocolVersion: 4,
      clientId: opts.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      // We subscribe on every connect ourselves (also when the broker lost our session).
      resubscribe: false,
      // Used by mqtts:// only. A username and password come as the URL's userinfo.
      ...opts.tls,
    });
    this.client.on('connect', (connack) => {
      opts.log(`mqtt connected to ${redactUrl(opts.brokerUrl)} as ${opts.clientId} (session present: ${String(connack.sessionPresent)})`);
      this.client.subscribe(UPLINK_SUBSCRIPTION, { qos: 1 }, (err, granted) => {
        const qos = granted?.[0]?.qos;
        if (err || qos === undefined || qos > 2) {
          opts.log(`mqtt subscribe to ${UPLINK_SUBSCRIPTION} failed: ${err ? err.message : `granted ${String(qos)}`}`);
          return;
        }
        this.readyResolve();
      });
    });
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
    // While the broker is down this fires on every reconnect attempt: rate-limited.
    this.client.on('error', (err) => this.badLog(`mqtt error: ${err.message}`));
    this.client.on('offline', () => opts.log('mqtt offline, reconnecting'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /**
   * The slow-consumer fault (protocol/pipeline-admin.ts): mqtt.js sends the PUBACK of an inbound
   * publish and reads the next one only when handleMessage calls back, so delaying that callback
   * slows the whole session down and the broker queues for it.
   */
  setSlow(ms: number): void {
    const original = Object.getPrototypeOf(this.client).handleMessage as MqttClient['handleMessage'];
    this.client.handleMessage = ms > 0 ? (packet, callback) => void setTimeout(() => original.call(this.client, packet, callback), ms) : original;
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
   * Publishes `encodeAck(device, contiguousSeq)` for each device. Skipped while offline: devices
   * resend, and a duplicate is re-acked. The payload goes as the JSON string (encodeAck's bytes):
   * mqtt-packet writes it straight into the packet, and mqtt.js's outgoing store need not copy a
   * buffer. One commit's acks already leave in one write: mqtt-packet corks the socket until the next tick.
   */
  publishAcks(acks: ReadonlyMap<string, number>): void {
    if (!this.client.connected) return;
    for (const [device, seq] of acks) this.client.publish(ackTopic(device), ackJson(device, seq), ACK_OPTS, this.onAckSent);
  }

  /** One callback for every ack publish (a closure per ack would be an allocation per record at batch 1). */
  private readonly onAckSent = (err?: Error): void => {
    if (err) this.badLog(`an ack failed: ${err.message} (the device resends; its duplicate is re-acked)`);
  };

  /** Stops taking messages, commits what is pending (acks go out), then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.engine.flush();
    this.closed = true;
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    await this.client.endAsync();
  }
}
