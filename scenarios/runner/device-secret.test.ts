import { afterEach, expect, it } from 'vitest';
import { DEVICE_SECRET_ENV } from '../../protocol/device-credentials.ts';
import { vigilErrorOf } from '../../test/support/vigil-error.ts';
import type { RunOptions } from './setup.ts';
import { deviceSecretOf } from './setup.ts';

const saved = process.env[DEVICE_SECRET_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[DEVICE_SECRET_ENV];
  else process.env[DEVICE_SECRET_ENV] = saved;
});

const opts = (brokerUrl?: string): RunOptions => ({ loaded: { file: '/s/iso.scenario.ts' }, brokerUrl } as unknown as RunOptions);

it('takes $VIGIL_DEVICE_SECRET, else makes one for an isolating embedded broker, else none', () => {
  delete process.env[DEVICE_SECRET_ENV];
  expect(deviceSecretOf(opts(), false, false)).toBeUndefined();
  const made = deviceSecretOf(opts(), true, false);
  expect(made).toMatch(/^[0-9a-f]{64}$/);
  expect(deviceSecretOf(opts(), true, false)).not.toBe(made);
  process.env[DEVICE_SECRET_ENV] = 'from-env';
  expect(deviceSecretOf(opts('mqtt://127.0.0.1:1883'), true, true)).toBe('from-env');
  expect(deviceSecretOf(opts(), false, false)).toBe('from-env');
});

it('refuses isolation without a secret when the broker or the load is someone else\'s', () => {
  delete process.env[DEVICE_SECRET_ENV];
  const refused = vigilErrorOf;
  const external = refused(() => deviceSecretOf(opts('mqtts://u:pw@127.0.0.1:8883'), true, false));
  expect(external.message).toBe('scenario iso.scenario.ts asks for device isolation against the broker at mqtts://u:***@127.0.0.1:8883, but no device secret is set');
  expect(external.fix).toMatch(/set VIGIL_DEVICE_SECRET/);
  expect(refused(() => deviceSecretOf(opts(), true, true)).message).toMatch(/with --observe the devices come from elsewhere/);
});
