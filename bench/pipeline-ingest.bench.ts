/**
 * Ingest throughput of the reference pipeline, end to end: records published → committed → acked.
 * The pipeline runs as its own process (`vigil pipeline`) on a store file; an aedes broker and the
 * publishing devices share this process. Not a test (DESIGN.md "Testing": never a timed test).
 *
 *   node --import tsx bench/pipeline-ingest.bench.ts [devices=1000] [recordsPerDevice=200] [batch=10] [fleet=psem]
 *
 * fleet `psem` or `mixed`: bench/pipeline-fleet.ts.
 *
 * Environment:
 *   BENCH_BROKER=mosquitto          a mosquitto child (as in the replay) instead of the in-process aedes,
 *                                   with an unbounded queue for the pipeline's session (mosquitto's
 *                                   default drops QoS 1 messages past 1,000 queued, and this bench's
 *                                   devices never resend)
 *   BENCH_SPEED=100                 the run's clock speed (default 1): the watchdog sweeps every
 *                                   min(1 s, 5 virtual s) real, 50 ms at the replay's speed 100
 *   VIGIL_PIPELINE_PROF_DIR=/tmp/p  the pipeline process writes a V8 CPU profile there on exit
 *                                   (node refuses --cpu-prof in NODE_OPTIONS)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { ackTopic, decodeAck, encodeBatch, upTopic, type UplinkRecord } from '../protocol/uplink.ts';
import { startMosquitto } from '../test/support/mosquitto.ts';
import { benchFleet } from './pipeline-fleet.ts';

const [devices = 1000, perDevice = 200, batch = 10] = process.argv.slice(2, 5).map(Number);
const mixed = process.argv[5] === 'mixed';
const TOKEN = 'bench';
const speed = Number(process.env.BENCH_SPEED ?? '1');
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
const brokerKind = process.env.BENCH_BROKER === 'mosquitto' ? 'mosquitto' : 'aedes';
const { url: brokerUrl, stop: stopBroker } = await startBroker();

async function startBroker(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (brokerKind === 'mosquitto') {
    const m = await startMosquitto(['max_queued_messages 0', 'max_connections -1']);
    return { url: m.url, stop: () => m.stop() };
  }
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
    stop: async () => {
      broker.close();
      server.close();
    },
  };
}

const profDir = process.env.VIGIL_PIPELINE_PROF_DIR;
const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
const child = spawn(process.execPath, [...nodeArgs, join(import.meta.dirname, '../bin/vigil.js'), 'pipeline', '--broker', brokerUrl, '--db', join(dir, 'p.db')],
  { env: { ...process.env, VIGIL_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
// A crash of this bench (EMFILE: aedes in this process needs two sockets a device) must not leave the pipeline running.
process.once('exit', () => child.kill('SIGKILL'));
const url = await new Promise<string>((resolve) => {
  createInterface({ input: child.stdout }).on('line', (l) => {
    const m = /serving (http:\/\/\S+)/.exec(l);
    if (m?.[1]) resolve(m[1]);
  });
});
const now = Date.now();
const { ids, prov, record } = benchFleet(devices, mixed, now, speed);
await fetch(new URL('/api/v1/provision', url), { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(prov) });

let done = 0;
let resolveAll!: () => void;
const all = new Promise<void>((r) => (resolveAll = r));
const clients: MqttClient[] = [];
for (const id of ids) {
  const c = await connectAsync(brokerUrl, { clientId: id, clean: true, protocolVersion: 4 });
  let finished = false;
  c.on('message', (_t, p) => {
    if (!finished && decodeAck(p).ack === perDevice) {
      finished = true;
      if (++done === devices) resolveAll();
    }
  });
  await c.subscribeAsync(ackTopic(id), { qos: 1 });
  clients.push(c);
}

/** CPU seconds the pipeline process has used (Linux /proc; clock ticks assumed 100/s). */
const pipelineCpu = (): number => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const cpu0 = pipelineCpu();
const t0 = performance.now();
for (let from = 1; from <= perDevice; from += batch) {
  await Promise.all(clients.map((c, i) => {
    const records: UplinkRecord[] = [];
    for (let s = from; s < from + batch && s <= perDevice; s++) {
      records.push(record(i, s));
    }
    return c.publishAsync(upTopic(ids[i]!), Buffer.from(encodeBatch(records)), { qos: 1 });
  }));
}
await all;
const secs = (performance.now() - t0) / 1000;
const cpu = pipelineCpu() - cpu0;
const total = devices * perDevice;
process.stdout.write(`${total} records from ${devices} ${mixed ? 'mixed' : 'psem'} devices in batches of ${batch} (${brokerKind}): ${secs.toFixed(2)} s, ` +
  `${Math.round(total / secs)} records/s acked end to end; pipeline CPU ${cpu.toFixed(2)} s = ${Math.round(total / cpu)} records per pipeline CPU-second ` +
  `= ${((cpu * 1000) / (total / 1000)).toFixed(1)} CPU-ms per 1,000 records\n`);

await Promise.all(clients.map((c) => c.endAsync()));
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await stopBroker();
rmSync(dir, { recursive: true, force: true });
