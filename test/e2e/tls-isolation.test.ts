/**
 * Issue 8 items 1–3 in one small real run: TLS with a client certificate against mosquitto (TLS
 * listener, password_file, acl_file), every device logging in as itself with a password derived
 * from VIGIL_DEVICE_SECRET, an impostor refused by the ACL and shown in run.json and report.html —
 * and three planted secrets (the feed token, the device secret, a password in the broker URL) found
 * in no file of the run directory and nowhere in what the run and the pipeline printed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeCerts, type CertFiles } from '../support/certs.ts';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { tempDir, vigil, writeScenario, type CliResult } from '../support/cli.ts';
import { startPipelineChild, type PipelineChild } from '../../sim/pipeline-process.ts';
import { loadScenario } from '../../scenarios/load.ts';
import { provisionRun } from '../../scenarios/runner/provision.ts';
import { devicePassword } from '../../protocol/device-credentials.ts';

const TOKEN = 'planted-feed-token-5b2d44e1';
const DEVICE_SECRET = 'planted-device-secret-7c1e9a03';
const BROKER_PASSWORD = 'planted-broker-password-9f3a6d';

let certs: CertFiles;
let mosquitto: Mosquitto;
let pipeline: PipelineChild;
let r: CliResult;
let secrets: string[];

beforeAll(async () => {
  certs = makeCerts(['vigil-fleet']);
  const client = certs.clients['vigil-fleet'] as { cert: string; key: string };
  const dir = tempDir();
  // The CA from the scenario (a path relative to it), the client certificate from the flags.
  mkdirSync(join(dir, 'certs'));
  copyFileSync(certs.ca, join(dir, 'certs', 'ca.pem'));
  const file = writeScenario(dir, 'tls-isolation', {
    name: 'tls-isolation', seed: 8, speed: 300, duration: '10m', drain: '5m', fleet: { pse: 3, psem: 3 }, behaviour: { scale: 100 },
    tls: { ca: 'certs/ca.pem' }, isolation: { impostors: 1 },
  });
  const loaded = await loadScenario(file);
  const ids = provisionRun(loaded.scenario, basename(file)).plan.devices.map((d) => d.deviceId);
  secrets = [TOKEN, DEVICE_SECRET, BROKER_PASSWORD, devicePassword(DEVICE_SECRET, ids[0] as string)];
  mosquitto = await startMosquitto([], {
    tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey },
    users: { 'vigil-pipeline': BROKER_PASSWORD, ...Object.fromEntries(ids.map((id) => [id, devicePassword(DEVICE_SECRET, id)])) },
    serviceUser: 'vigil-pipeline',
    probe: client,
  });
  const broker = mosquitto.url.replace('://', `://vigil-pipeline:${BROKER_PASSWORD}@`);
  // `vigil pipeline --ca --cert --key` as its own process: the broker password and the token go by environment.
  pipeline = await startPipelineChild({
    brokerUrl: mosquitto.url.replace('://', '://vigil-pipeline@'), brokerPassword: BROKER_PASSWORD, token: TOKEN, dbFile: join(dir, 'pipeline.db'),
    tlsFiles: { ca: certs.ca, cert: client.cert, key: client.key },
  });
  r = await vigil(['run', file, '--broker', broker, '--pipeline', pipeline.url, '--token', TOKEN, '--cert', client.cert, '--key', client.key, '--out', join(dir, 'runs')],
    { env: { VIGIL_DEVICE_SECRET: DEVICE_SECRET } });
});

afterAll(async () => {
  await pipeline?.close();
  await mosquitto?.stop();
});

it('runs over TLS with a client certificate, each device logged in as itself, and PASSes', () => {
  expect(r.code, `${r.stdout}\n${r.stderr}\n${mosquitto.log()}`).toBe(0);
  const run = r.run!;
  expect(run.verdict).toBe('PASS');
  expect(run.ledger).toMatchObject({ dropped: 0, spurious: 0 });
  expect(run.ledger.expected).toBeGreaterThan(0);
  expect(run.completeness.recordsMissing).toBe(0);
  expect(run.broker.url).toMatch(/^mqtts:\/\/vigil-pipeline:\*\*\*@127\.0\.0\.1:\d+$/);
});

it('refuses the impostor: nothing stored for the victim, shown in run.json and report.html', () => {
  const run = r.run!;
  expect(run.isolation?.attempts).toHaveLength(1);
  expect(run.isolation?.attempts[0]).toMatchObject({ stored: false });
  // mosquitto 2 acknowledges a refused MQTT 3.1.1 publish: the broker's answer proves nothing.
  expect(run.isolation?.brokerRefused).toBeNull();
  const check = run.checks.find((c) => c.name === 'device isolation');
  expect(check).toMatchObject({ passed: true, summary: '1 impersonation attempt: 1 refused, 0 stored for the victim' });
  expect(readFileSync(join(r.runDir!, 'report.html'), 'utf8')).toContain('1 impersonation attempt: 1 refused, 0 stored for the victim');
});

it('writes no planted secret into any file of the run directory, the run\'s output or the pipeline\'s log', () => {
  const files = readdirSync(r.runDir!, { recursive: true }).map(String).filter((f) => statSync(join(r.runDir!, f)).isFile());
  expect(files).toEqual(expect.arrayContaining(['run.json', 'journal.jsonl', 'junit.xml', 'report.html']));
  const texts: [string, string][] = [
    ...files.map((f) => [f, readFileSync(join(r.runDir!, f)).toString('latin1')] as [string, string]),
    ['stdout', r.stdout], ['stderr', r.stderr], ['pipeline output', pipeline.output.join('\n')],
  ];
  const hits = texts.flatMap(([where, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${s} in ${where}`));
  expect(hits).toEqual([]);
  expect(r.run!.command).toContain('--broker mqtts://vigil-pipeline:***@');
  // The pipeline logged in with the planted password (it printed the URL, masked).
  expect(pipeline.output.join('\n')).toMatch(/mqtt connected to mqtts:\/\/vigil-pipeline:\*\*\*@127\.0\.0\.1/);
});
