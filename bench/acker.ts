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
 *   node --import tsx bench/acker.ts <brokerUrl>   prints "ready", then on SIGTERM one JSON line.
 */
import mqtt from 'mqtt';
import { UPLINK_SUBSCRIPTION, ackTopic, decodeBatch, deviceOfUpTopic, encodeAck } from '../protocol/uplink.ts';

const url = process.argv[2] ?? '';
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
    seq = (records[records.length - 1] as (typeof records)[number]).seq;
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
  process.stdout.write(`${JSON.stringify({ batches, invalid })}\n`);
  client.end(true, {}, () => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
});
