import { describe, expect, it } from 'vitest';
import { VigilError } from '../protocol/errors.ts';
import { checkTargets, type Target } from './interlock.ts';
import type { LoadedProjectConfig } from './project-config.ts';

const noFile: LoadedProjectConfig = { file: undefined, path: '/p/vigil.config.ts', config: { targets: { allow: [] } } };
const withFile = (allow: string[]): LoadedProjectConfig => ({ file: '/p/vigil.config.ts', path: '/p/vigil.config.ts', config: { targets: { allow } } });
const broker = (url: string): Target => ({ what: 'the MQTT broker', url, from: '--broker' });
const pipeline = (url: string): Target => ({ what: 'the pipeline', url, from: '--pipeline' });

function refusal(targets: Target[], loaded: LoadedProjectConfig): string {
  try {
    checkTargets(targets, loaded);
  } catch (err) {
    expect(err).toBeInstanceOf(VigilError);
    expect((err as VigilError).code).toBe('VIGIL_TARGET_NOT_ALLOWED');
    return (err as VigilError).oneLine();
  }
  throw new Error('allowed');
}

describe('the safety interlock', () => {
  it('lets loopback targets through, and none at all', () => {
    expect(() => checkTargets([broker('mqtt://127.0.0.1:1883'), pipeline('http://localhost:8080')], noFile)).not.toThrow();
    expect(() => checkTargets([], noFile)).not.toThrow();
  });

  it('refuses another host naming it, its flag, and the config file to create', () => {
    expect(refusal([broker('mqtt://10.255.255.1:1883')], noFile)).toBe(
      'safety interlock: the MQTT broker 10.255.255.1 (--broker mqtt://10.255.255.1:1883) is not on the allow-list; Vigil sends load and injects faults only toward loopback and the hosts of targets.allow in vigil.config.ts, and connected to nothing'
      + " — if it is a test system you may load, create /p/vigil.config.ts with: export default { targets: { allow: ['10.255.255.1'] } } [VIGIL_TARGET_NOT_ALLOWED]",
    );
  });

  it('names every refused target, and the line to put in an existing config', () => {
    const line = refusal([broker('mqtt://staging-broker.example:1883'), pipeline('http://[fd00::7]:8080'), pipeline('http://127.0.0.1:8080')], withFile(['10.1.2.3']));
    expect(line).toMatch(/the MQTT broker staging-broker\.example \(--broker mqtt:\/\/staging-broker\.example:1883\) and the pipeline fd00::7 \(--pipeline http:\/\/\[fd00::7\]:8080\) are not on the allow-list/);
    expect(line).toMatch(/hosts of targets\.allow in \/p\/vigil\.config\.ts/);
    expect(line).toMatch(/if these are test systems you may load, add them to \/p\/vigil\.config\.ts: targets: \{ allow: \['10\.1\.2\.3', 'staging-broker\.example', 'fd00::7'\] \}/);
  });

  it('never shows a password the URL carries', () => {
    const line = refusal([broker('mqtt://vigil:s3cret@10.9.9.9:1883')], noFile);
    expect(line).toMatch(/\(--broker mqtt:\/\/vigil:\*\*\*@10\.9\.9\.9:1883\)/);
    expect(line).not.toContain('s3cret');
  });

  it('checks TLS URLs alike: mqtts:// brokers and https:// pipelines (their feed is wss://)', () => {
    expect(refusal([broker('mqtts://broker.prod.example:8883'), pipeline('https://10.7.7.7:8443')], noFile))
      .toMatch(/the MQTT broker broker\.prod\.example \(--broker mqtts:\/\/broker\.prod\.example:8883\) and the pipeline 10\.7\.7\.7 \(--pipeline https:\/\/10\.7\.7\.7:8443\) are not on the allow-list/);
    expect(() => checkTargets([broker('mqtts://localhost:8883'), broker('ssl://127.0.0.1:8883'), pipeline('https://[::1]:8443')], noFile)).not.toThrow();
  });

  it('allows what the config lists', () => {
    expect(() => checkTargets([broker('mqtt://staging-broker.example:1883'), pipeline('http://10.1.2.3:8080')], withFile(['staging-broker.example', '10.1.0.0/16']))).not.toThrow();
  });
});
