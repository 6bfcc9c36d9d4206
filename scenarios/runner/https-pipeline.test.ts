/**
 * The harness against an https:// pipeline signed by a private CA (issue 8 item 1): the API calls
 * (scenarios/runner/endpoints.ts, undici with the run's CA) and the wss:// feed
 * (verify/feed-consumer.ts) reach it with --ca's material, and without it fail with an error that
 * says to give --ca — no NODE_EXTRA_CA_CERTS needed.
 */
import { expect, it } from 'vitest';
import { useHttpsPipeline } from '../../test/support/https-pipeline.ts';
import { FeedConsumer } from '../../verify/feed-consumer.ts';
import { VigilError } from '../../protocol/errors.ts';
import { pipelineApi } from './endpoints.ts';

const TOKEN = 'https-harness-token';
const served = useHttpsPipeline(TOKEN);

it('reaches the API and the feed with the run\'s CA', async () => {
  const tls = { ca: served.certs.read(served.certs.ca) };
  expect((await pipelineApi.health(served.pipeline.url, tls)).ok).toBe(true);
  const summary = await pipelineApi.summary(served.pipeline.url, TOKEN, tls);
  expect(summary.devices).toBeDefined();
  const feed = new FeedConsumer({ baseUrl: served.pipeline.url, token: TOKEN, tls, after: 0, now: () => Date.now(), onObservation: () => {} });
  await feed.start();
  expect(feed.stats.connects).toBe(1);
  await feed.stop();
});

it('without the CA, says to give --ca', async () => {
  const err = await pipelineApi.health(served.pipeline.url).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VigilError);
  expect((err as VigilError).message).toMatch(/cannot reach the pipeline at https:\/\/127\.0\.0\.1:\d+: .*(SELF_SIGNED|UNABLE_TO_VERIFY|CERT)/i);
  expect((err as VigilError).fix).toMatch(/give --ca/);
});
