/**
 * Stands in for the pipeline in fleet tests: subscribed to every uplink, it acks each batch with
 * its last seq (protocol/uplink.ts), so the firmware's outbox drains as in a run.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { UPLINK_SUBSCRIPTION, ackTopic, decodeBatch, deviceOfUpTopic, encodeAck, type UplinkRecord } from '../../protocol/uplink.ts';

export async function startAcker(url: string, clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId, reconnectPeriod: 0 });
  await c.subscribeAsync(UPLINK_SUBSCRIPTION, { qos: 1 });
  c.on('message', (topic, payload) => {
    const device = deviceOfUpTopic(topic) as string;
    const records = decodeBatch(payload, device).records;
    void c.publishAsync(ackTopic(device), Buffer.from(encodeAck(device, (records.at(-1) as UplinkRecord).seq)), { qos: 1 });
  });
  return c;
}
