import { createHmac } from 'node:crypto';
import { expect, it } from 'vitest';
import { deviceCredentials, devicePasswordOk } from './device-credentials.ts';

it('derives each device\'s password from the secret and its id, and checks it', () => {
  const c = deviceCredentials('run-secret', 'PSE-00001');
  expect(c.username).toBe('PSE-00001');
  expect(c.password).toBe(createHmac('sha256', 'run-secret').update('PSE-00001').digest('hex'));
  expect(deviceCredentials('run-secret', 'PSE-00002').password).not.toBe(c.password);
  expect(deviceCredentials('other-secret', 'PSE-00001').password).not.toBe(c.password);
  expect(devicePasswordOk('run-secret', 'PSE-00001', Buffer.from(c.password))).toBe(true);
  expect(devicePasswordOk('run-secret', 'PSE-00002', c.password)).toBe(false);
  expect(devicePasswordOk('run-secret', 'PSE-00001', undefined)).toBe(false);
  expect(devicePasswordOk('run-secret', 'PSE-00001', 'short')).toBe(false);
});
