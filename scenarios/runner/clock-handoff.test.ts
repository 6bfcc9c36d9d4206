import { describe, expect, it } from 'vitest';
import { VigilError } from '../../protocol/errors.ts';
import { validateScenario, type Scenario } from '../schema.ts';
import { checkClockFits, parseClock, refuseFaultsWithoutDevices } from './clock-handoff.ts';

function scenario(extra: Record<string, unknown> = {}): Scenario {
  const r = validateScenario({ name: 'x', duration: '1h', speed: 240, start: '2021-10-25T14:00:00+02:00', fleet: { psem: 4 }, ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.scenario;
}

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(VigilError);
    return (err as VigilError).oneLine();
  }
  throw new Error('did not throw');
};

describe('the clock hand-off', () => {
  it('reads back the triple the observer printed', () => {
    const triple = { startVirtual: 1635163200000, startReal: 1700000000000, speed: 240 };
    expect(parseClock(JSON.stringify(triple), '--clock')).toEqual(triple);
  });

  it('names what is wrong with a bad clock', () => {
    expect(message(() => parseClock('{startVirtual: 1}', '--clock'))).toMatch(/^--clock is not JSON: .* — pass the JSON the observer printed on its `clock:` line/);
    expect(message(() => parseClock('{"startVirtual":1,"startReal":2,"speed":0}', '--clock'))).toMatch(/^--clock: speed must be a number > 0, got 0/);
    expect(message(() => parseClock('{"startVirtual":1,"speed":2}', '--clock'))).toMatch(/^--clock: startReal must be a time in ms since the epoch, got nothing/);
  });

  it('refuses a clock made for another start or speed: the devices would make other records', () => {
    const s = scenario();
    expect(() => checkClockFits({ startVirtual: s.start, startReal: 0, speed: 240 }, s, 'x.scenario.ts')).not.toThrow();
    expect(message(() => checkClockFits({ startVirtual: s.start, startReal: 0, speed: 60 }, s, 'x.scenario.ts'))).toMatch(/clock runs at speed 60, but scenario x\.scenario\.ts runs at speed 240/);
    expect(message(() => checkClockFits({ startVirtual: s.start + 1, startReal: 0, speed: 240 }, s, 'x.scenario.ts'))).toMatch(/starts virtual time at 2021-10-25T12:00:00\.001Z, but scenario x\.scenario\.ts starts at 2021-10-25T12:00:00\.000Z/);
  });

  it.each([
    ['a network fault', { kind: 'black-hole', name: 'bh', from: '+10m', until: '+20m' }, /"bh" \(black-hole\) cannot run with --observe: network faults are injected by Vigil's operator proxies/],
    ['a device fault', { kind: 'clock-skew', name: 'skew', offset: '-1h', from: '+10m', until: '+20m', target: { fraction: 0.5 } }, /"skew" \(clock-skew\) cannot run with --observe: it changes the devices' clocks/],
    ['a process fault', { kind: 'pipeline-restart', name: 'restart', from: '+10m', until: '+20m' }, /"restart" \(pipeline-restart\) cannot run with --observe: a process fault is judged on what each device got acknowledged/],
  ])('refuses %s in observe mode, naming it and why', (_what, fault, why) => {
    expect(message(() => refuseFaultsWithoutDevices(scenario({ faults: [fault] }), 'x.scenario.ts', '--observe'))).toMatch(why);
    expect(() => refuseFaultsWithoutDevices(scenario(), 'x.scenario.ts', '--observe')).not.toThrow();
  });
});
