import { describe, expect, it } from 'vitest';
import { VigilError } from '../protocol/errors.ts';
import { checkModeFlags, devicesOnlyCommand, reproduceCommand, type RunFlags } from './run-command.ts';

describe('the reproduce command line', () => {
  it('names every flag that shaped the run and never the token', () => {
    const cmd = reproduceCommand('scenarios/smoke.scenario.ts', { token: 's3cret', speed: 240, seed: 4, out: 'runs', pipeline: 'http://127.0.0.1:9' });
    expect(cmd).toBe('npx vigil run scenarios/smoke.scenario.ts --pipeline http://127.0.0.1:9 --speed 240 --seed 4 --out runs');
    expect(cmd).not.toContain('s3cret');
  });

  it('names the TLS files, and masks a password in a URL (here and in the load command of an observer)', () => {
    const flags: RunFlags = { out: 'runs', broker: 'mqtts://vigil:pw-s3cret@127.0.0.1:8883', ca: 'certs/ca.pem', cert: 'certs/c.pem', key: 'certs/c.key' };
    expect(reproduceCommand('s.scenario.ts', flags)).toBe('npx vigil run s.scenario.ts --broker mqtts://vigil:***@127.0.0.1:8883 --out runs --ca certs/ca.pem --cert certs/c.pem --key certs/c.key');
    expect(devicesOnlyCommand('s.scenario.ts', flags, 'runs/x/clock.json', flags.broker as string))
      .toBe('npx vigil run s.scenario.ts --devices-only --clock-file runs/x/clock.json --broker mqtts://vigil:***@127.0.0.1:8883 --ca certs/ca.pem --cert certs/c.pem --key certs/c.key');
  });
});

describe('observe-mode flags', () => {
  const refused = (flags: Partial<RunFlags>): string => {
    try {
      checkModeFlags({ out: 'runs', ...flags });
    } catch (err) {
      expect(err).toBeInstanceOf(VigilError);
      return (err as VigilError).oneLine();
    }
    throw new Error('accepted');
  };

  it('accepts an observer, and a load with its clock and broker', () => {
    expect(() => checkModeFlags({ out: 'runs', observe: true, lead: 5, broker: 'mqtt://127.0.0.1:1883' })).not.toThrow();
    expect(() => checkModeFlags({ out: 'runs', devicesOnly: true, clockFile: 'runs/x/clock.json', broker: 'mqtt://127.0.0.1:1883' })).not.toThrow();
  });

  it.each<[string, Partial<RunFlags>, RegExp]>([
    ['--observe with --devices-only', { observe: true, devicesOnly: true, clock: '{}', broker: 'mqtt://h' }, /--observe and --devices-only exclude each other/],
    ['--devices-only without a clock', { devicesOnly: true, broker: 'mqtt://h' }, /--devices-only needs the observer's clock — pass --clock/],
    ['--devices-only without a broker', { devicesOnly: true, clock: '{}' }, /--devices-only needs the observer's broker — pass --broker <url>/],
    ['--devices-only with --pipeline', { devicesOnly: true, clock: '{}', broker: 'mqtt://h', pipeline: 'http://h' }, /--devices-only runs no pipeline/],
    ['--clock and --clock-file', { devicesOnly: true, clock: '{}', clockFile: 'c.json', broker: 'mqtt://h' }, /--clock and --clock-file both given/],
    ['--clock without --devices-only', { clock: '{}' }, /--clock and --clock-file only go with --devices-only/],
    ['--lead without --observe', { lead: 5 }, /--lead only goes with --observe/],
    ['--devices-only with --dashboard', { devicesOnly: true, clock: '{}', broker: 'mqtt://h', dashboard: 0 }, /--devices-only verifies nothing, so the live dashboard has nothing to show — give --dashboard to the observer/],
  ])('refuses %s, saying how to fix it', (_what, flags, why) => {
    expect(refused(flags)).toMatch(why);
  });

  it('an observer reproduces as one, and prints a load command with the flags that shape the fleet', () => {
    expect(reproduceCommand('s.scenario.ts', { out: 'runs', observe: true, lead: 5, seed: 3 })).toBe('npx vigil run s.scenario.ts --observe --seed 3 --out runs --lead 5');
    expect(devicesOnlyCommand('s.scenario.ts', { out: 'runs', observe: true, lead: 5, seed: 3, speed: 240 }, 'runs/x/clock.json', 'mqtt://127.0.0.1:1883'))
      .toBe('npx vigil run s.scenario.ts --devices-only --clock-file runs/x/clock.json --broker mqtt://127.0.0.1:1883 --speed 240 --seed 3');
  });
});
