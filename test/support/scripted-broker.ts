/**
 * A scripted broker for what real brokers will not do on demand: refuse a CONNECT, go silent (TCP
 * up, bytes vanish — the 2021 black hole), answer that it has, or has not, kept a session.
 * Test-only: it reads packets whose remaining length fits one byte, each whole in one chunk, as the
 * device links under test write them.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface ScriptedBroker {
  url: string;
  /** TCP connections accepted so far. */
  dials(): number;
  close(): Promise<void>;
}

/**
 * `onPacket` gets each packet the client writes: its socket, type (the fixed header's high nibble),
 * its number on that connection, and its bytes (fixed header included).
 */
export async function scriptedBroker(onPacket: (s: Socket, type: number, n: number, packet: Buffer) => void): Promise<ScriptedBroker> {
  let dials = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    dials++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let n = 0;
    s.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; ) {
        const end = at + 2 + (chunk[at + 1] as number);
        onPacket(s, (chunk[at] as number) >> 4, n++, chunk.subarray(at, end));
        at = end;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
    dials: () => dials,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Packet types (the fixed header's high nibble) the scripts answer or read [MQTT-2.2.1]. */
export const CONNECT = 1;
export const PUBACK = 4;
export const SUBSCRIBE = 8;

/** CONNACK [MQTT-3.2]: Session Present, then the return code (0 accepted). */
export const connack = (returnCode = 0, sessionPresent = false): Buffer => Buffer.from([0x20, 2, sessionPresent ? 1 : 0, returnCode]);

/** SUBACK [MQTT-3.9] for SUBSCRIBE `packetId`, granting QoS 1 to its one filter. */
export const suback = (packetId = 1): Buffer => Buffer.from([0x90, 3, packetId >> 8, packetId & 0xff, 1]);

/**
 * A session script: CONNACK with Session Present as `sessionPresent(dial)` says (dial 1, 2, …;
 * whatever the CONNECT asked, so that a client's trust in it can be tested), SUBACK granting QoS 1;
 * every packet type the client writes is logged per dial.
 */
export async function sessionBroker(sessionPresent: (dial: number) => boolean): Promise<ScriptedBroker & { types: number[][] }> {
  const types: number[][] = [];
  const broker = await scriptedBroker((s, type, n, packet) => {
    if (n === 0) types.push([]);
    (types.at(-1) as number[]).push(type);
    if (type === CONNECT) s.write(connack(0, sessionPresent(types.length)));
    if (type === SUBSCRIBE) s.write(suback(packet.readUInt16BE(2)));
  });
  return Object.assign(broker, { types });
}
