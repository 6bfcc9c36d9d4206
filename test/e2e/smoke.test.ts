/**
 * The walking skeleton's "done when" (issue 2): the smoke scenario PASSes with ≥ 50 expected alarms
 * and none dropped — on the embedded broker, and on a real mosquitto against a pipeline started on
 * its own with `vigil pipeline` and reached with --pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPipelineChild, type PipelineChild } from '../../sim/pipeline-process.ts';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { tempDir, vigil, type CliResult } from '../support/cli.ts';

function expectSmokePass(r: CliResult): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  const run = r.run!;
  expect(run.schemaVersion).toBe(3);
  expect(run.verdict).toBe('PASS');
  expect(run.scenario).toMatchObject({ name: 'smoke', devices: 1000, seed: 2021 });
  expect(run.ledger.expected).toBeGreaterThanOrEqual(50);
  expect(run.ledger).toMatchObject({ dropped: 0, late: 0, duplicates: 0, spurious: 0 });
  expect(run.ledger.onTime).toBe(run.ledger.expected);
  expect(Object.values(run.latencyMs).reduce((n, l) => n + l.count, 0)).toBe(run.ledger.expected);
  expect(run.completeness.recordsMissing).toBe(0);
  expect(run.completeness.recordsMade).toBeGreaterThan(50_000);
  expect(run.failures).toEqual([]);
  const junit = readFileSync(join(r.runDir!, 'junit.xml'), 'utf8');
  expect(junit).toMatch(/<testsuites name="vigil" tests="\d+" failures="0">/);
  expect(junit).toContain('name="no dropped alarms"');
  expect(r.stdout).toMatch(/^PASS {2}smoke/m);
}

describe('smoke scenario', () => {
  // At speed 120 (a minute of wall time): the README's headline is the replay now, covered at test
  // size by replay.test.ts; this is the whole path with a thousand devices on the embedded broker.
  it('PASSes on the embedded broker', async () => {
    expectSmokePass(await vigil(['run', 'scenarios/smoke.scenario.ts', '--speed', '120', '--out', tempDir()]));
  });

  describe('with mosquitto', () => {
    let mosquitto: Mosquitto;
    let pipeline: PipelineChild;
    const token = 'test-token-e2e';
    beforeAll(async () => {
      mosquitto = await startMosquitto();
      pipeline = await startPipelineChild({ brokerUrl: mosquitto.url, token, dbFile: join(tempDir(), 'p.db') });
    });
    afterAll(async () => {
      await pipeline?.close();
      await mosquitto?.stop();
    });

    // At speed 120, as the embedded run: at 240 a 4-minute SLA is one real second, and on a 2-core CI
    // machine running another e2e file beside this one, both runs failed once on 2026-12-01 with
    // alarms 1–2 s real late in the first virtual minutes (the harness itself 0.3 s behind its clock).
    // Robust before fast: this is the "PASS on a real broker" proof. One run proves both the real
    // broker and the pipeline started on its own; mosquitto with the pipeline Vigil starts itself is
    // slow-consumer.test.ts's (--mosquitto; npm test's time budget).
    it('PASSes with --broker pointed at mosquitto, against a pipeline started on its own (`vigil pipeline`) with --pipeline', async () => {
      const r = await vigil(['run', 'scenarios/smoke.scenario.ts', '--broker', mosquitto.url, '--pipeline', pipeline.url, '--speed', '120', '--out', tempDir()], { env: { VIGIL_TOKEN: token } });
      expectSmokePass(r);
      expect(r.run!.broker).toEqual({ kind: 'external', url: mosquitto.url });
      expect(r.run!.pipeline).toMatchObject({ kind: 'external', url: pipeline.url, server: 'vigil-reference-pipeline' });
    });
  });
});
