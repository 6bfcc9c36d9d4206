/**
 * The reference pipeline over TLS (issue 8 items 1 and 3): given a certificate and key it serves the
 * API over HTTPS and the operator feed over wss://, and still refuses a missing or wrong token on
 * both; the harness's feed consumer reaches it with the run's CA.
 */
import { request } from 'node:https';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { useHttpsPipeline } from '../test/support/https-pipeline.ts';
import { feedUrl } from '../protocol/feed.ts';
import { SUMMARY_PATH } from '../protocol/provisioning.ts';

const TOKEN = 'https-test-token';
const served = useHttpsPipeline(TOKEN);

/** The HTTP status of a wss:// upgrade, or 101 once open. */
function feedStatus(token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(feedUrl(served.pipeline.url, 0), { ca: served.certs.read(served.certs.ca), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

function apiStatus(token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(SUMMARY_PATH, served.pipeline.url), { ca: served.certs.read(served.certs.ca), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

it('serves https:// and wss://, and refuses a missing or wrong token on both', async () => {
  expect(served.pipeline.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(feedUrl(served.pipeline.url, 0)).toMatch(/^wss:/);
  expect(await feedStatus(TOKEN)).toBe(101);
  expect(await feedStatus('wrong-token')).toBe(401);
  expect(await feedStatus(undefined)).toBe(401);
  expect(await apiStatus(TOKEN)).toBe(200);
  expect(await apiStatus('wrong-token')).toBe(401);
  expect(await apiStatus(undefined)).toBe(401);
});

it('is refused by a client that does not trust its CA', async () => {
  await expect(new Promise((resolve, reject) => {
    const ws = new WebSocket(feedUrl(served.pipeline.url, 0), { headers: { authorization: `Bearer ${TOKEN}` } });
    ws.once('open', () => resolve(ws.terminate()));
    ws.once('error', reject);
  })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
});
