/**
 * Stands in for the pipeline during `npm run bench`: one mqtt.js client subscribed to every
 * device's uplink, answering each batch with an ack of its highest seq. Vigil's firmware keeps
 * every record until such an ack arrives, so without it the fleet would only resend. The reference
 * pipeline's own ingest is measured by bench/pipeline-ingest.bench.ts.
 *
 * QoS: the acks go out at QoS 1, as the reference pipeline sends them (pipeline/ingest.ts), so each
 * device does the same downlink work (deliver, PUBACK) as in a real run. The subscription is QoS 0:
 * at QoS 1 mosquitto would hold this single 15,000 msg/s consumer to its 20-message in-flight
 * window (max_inflight_messages, 20 by default) and its queue (max_queued_messages), past which it
 * drops: a bottleneck of the stand-in, not of Vigil. A delivery lost anyway shows up as Vigil
 * resends (the firmware's 5 s ack timeout is virtual: 83 ms real at speed 60).
 *
 * It also measures publish-to-ingest latency: the real time from when a record was made to when
 * its batch reached this consumer. A record's `time` is its device's virtual time; `<epoch>` and
 * `<speed>` are the contender's clock (virtual = epoch + (real − epoch) × speed; the baseline and
 * the floor stamp real time: speed 1), so real make time = epoch + (time − epoch) / speed. Only
 * between SIGUSR1 (the steady window starts) and SIGUSR2 (it ends) is sampled.
 *
 *   node --import tsx bench/acker.ts <brokerUrl> <epoch> <speed>
 *       prints "ready", then on SIGTERM one JSON line: batches, invalid, latency percentiles (ms).
 */
import hdr from 'hdr-histogram-js';
import mqtt from 'mqtt';
import { UPLINK_SUBSCRIPTION, ackTopic, decodeBatch, deviceOfUpTopic, encodeAck } from '../protocol/uplink.ts';

const url = process.argv[2] ?? '';
const epoch = Number(process.argv[3]);
const speed = Number(process.argv[4]);
const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
let sampling = false;
process.on('SIGUSR1', () => (sampling = true));
process.on('SIGUSR2', () => (sampling = false));
let batches = 0;
let invalid = 0;
const client = mqtt.connect(url, { clientId: 'vigil-bench-acker', clean: true, protocolVersion: 4, reconnectPeriod: 1000, keepalive: 30 });
client.on('connect', () => {
  client.subscribe(UPLINK_SUBSCRIPTION, { qos: 0 }, (err) => {
    if (err) throw err;
    process.stdout.write('ready\n');
  });
});
client.on('message', (topic, payload) => {
  const device = deviceOfUpTopic(topic);
  let seq = 0;
  try {
    if (device === undefined) throw new Error('not an uplink topic');
    const records = decodeBatch(payload, device).records;
    const first = records[0] as (typeof records)[number];
    seq = (records[records.length - 1] as (typeof records)[number]).seq;
    // The oldest record of the batch: a batch is ingested when its first record waited longest.
    if (sampling) latency.recordValue(Math.max(1, Date.now() - (epoch + (first.time - epoch) / speed)));
  } catch {
    invalid++;
    return;
  }
  batches++;
  const a = encodeAck(device, seq);
  client.publish(ackTopic(device), Buffer.from(a.buffer, a.byteOffset, a.byteLength), { qos: 1 });
});
client.on('error', (err) => process.stderr.write(`acker: ${err.message}\n`));

process.once('SIGTERM', () => {
  const pct = (q: number): number => latency.getValueAtPercentile(q);
  process.stdout.write(`${JSON.stringify({ batches, invalid, latencyMs: { n: latency.totalCount, p50: pct(50), p99: pct(99), max: latency.maxValue } })}\n`);
  client.end(true, {}, () => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
});
