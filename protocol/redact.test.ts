import { expect, it } from 'vitest';
import { redactUrl, withoutUserinfo } from './redact.ts';

it('masks a URL\'s password and leaves the rest as given', () => {
  expect(redactUrl('mqtts://vigil-pipeline:s3cr%40t@broker.example:8883')).toBe('mqtts://vigil-pipeline:***@broker.example:8883');
  expect(redactUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
  expect(redactUrl('mqtt://user@127.0.0.1:1883')).toBe('mqtt://user@127.0.0.1:1883');
  expect(redactUrl('not a url')).toBe('not a url');
});

it('drops a URL\'s userinfo for a client that logs in as itself', () => {
  expect(withoutUserinfo('mqtts://vigil-pipeline:pw@127.0.0.1:8883')).toBe('mqtts://127.0.0.1:8883');
  expect(withoutUserinfo('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
});
