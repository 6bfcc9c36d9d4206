import { describe, expect, it } from 'vitest';
import type { SerialFrame, CommandType } from '../protocol/serial-frame.ts';
import { parseIdentity, parseStatus } from '../protocol/serial-messages.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { EmulatedBracelet, type EmulatorState } from './emulated-device.ts';
import { LinkRefusal } from './link.ts';

const T0 = Date.UTC(2021, 9, 25, 16, 0);

function device(type: 'psem' | 'bar_perpetrator' = 'psem', state?: EmulatorState) {
  let real = 1_000_000;
  const saved: EmulatorState[] = [];
  const s: EmulatorState = state ?? { v: 1, serialNumber: 'EMU-1', deviceType: type, lastSeq: 0, outbox: [] };
  const d = new EmulatedBracelet({ state: s, persist: (x) => saved.push(JSON.parse(JSON.stringify(x)) as EmulatorState), realNow: () => real });
  let seq = 0;
  const cmd = (type: CommandType, fields: string[] = []): string[] => d.handle({ seq: seq++ % 256, type, fields } satisfies SerialFrame);
  const advance = (ms: number): void => {
    real += ms;
    d.tick();
  };
  /** Delivers everything pending, as the link would, and returns it. */
  const drain = (): UplinkRecord[] => {
    const out: UplinkRecord[] = [];
    for (let r = d.nextToSend(); r; r = d.nextToSend()) {
      out.push(r);
      d.delivered(r.seq);
    }
    return out;
  };
  return { d, cmd, advance, drain, saved, state: s };
}

function configured(type: 'psem' | 'bar_perpetrator' = 'psem', speed = 60) {
  const t = device(type);
  t.cmd('CFG', ['dev-1', type]);
  t.cmd('TIM', [String(T0), String(speed)]);
  return t;
}

describe('EmulatedBracelet', () => {
  it('identifies itself and refuses stimuli until it has a device id and a clock', () => {
    const t = device();
    expect(parseIdentity(t.cmd('IDN'))).toMatchObject({ serialNumber: 'EMU-1', deviceTypes: ['psem'], followsVirtualTime: true, protocolVersion: 1 });
    expect(() => t.cmd('TMP')).toThrow(/TMP before CFG/);
    t.cmd('CFG', ['dev-1', 'psem']);
    expect(() => t.cmd('FIX', ['48.8', '2.3', '5'])).toThrow(/FIX before TIM/);
    expect(() => t.cmd('CFG', ['dev-1', 'bar_perpetrator'])).toThrow(LinkRefusal);
  });

  it('reports the first fix at once, then every 60 virtual seconds from the latest fix', () => {
    const t = configured('psem', 60);
    t.cmd('FIX', ['48.8', '2.3', '5']);
    t.advance(0);
    expect(t.drain()).toEqual([{ device: 'dev-1', seq: 1, time: T0, battery: 100, type: 'position', lat: 48.8, lon: 2.3, accuracy: 5 }]);
    t.cmd('FIX', ['48.9', '2.4', '7']);
    t.advance(999); // 59.94 virtual s
    expect(t.drain()).toEqual([]);
    t.advance(1);
    expect(t.drain()).toMatchObject([{ seq: 2, time: T0 + 60_000, lat: 48.9, lon: 2.4, accuracy: 7 }]);
  });

  it('sends a heartbeat after 180 s without a record (30 s on a BAR unit)', () => {
    const psem = configured('psem', 60);
    psem.advance(2_999);
    expect(psem.drain()).toEqual([]);
    psem.advance(1);
    expect(psem.drain()).toMatchObject([{ type: 'heartbeat', time: T0 + 180_000, seq: 1 }]);
    const bar = configured('bar_perpetrator', 60);
    bar.advance(500);
    expect(bar.drain()).toMatchObject([{ type: 'heartbeat', time: T0 + 30_000 }]);
  });

  it('records events at once: tamper, charger, SOS (refused on a BAR perpetrator), and a low battery', () => {
    const t = configured();
    t.cmd('TMP');
    t.cmd('CHG', ['1']);
    t.cmd('CHG', ['1']); // no change, no event
    t.cmd('SOS');
    t.cmd('BAT', ['12']);
    expect(t.drain().map((r) => (r.type === 'event' ? r.event : `${r.type}@${r.battery}`))).toEqual(['strap_tamper', 'charger_connected', 'sos', 'heartbeat@12']);
    const bar = configured('bar_perpetrator');
    expect(() => bar.cmd('SOS')).toThrow(/no SOS button/);
  });

  it('persists every record before it is sent, keeps it until AAK, and goes on from the saved seq after a restart', () => {
    const t = configured();
    t.cmd('TMP');
    t.cmd('TMP');
    expect(t.saved.at(-1)).toMatchObject({ lastSeq: 2, outbox: [{ seq: 1 }, { seq: 2 }] });
    t.drain();
    t.cmd('AAK', ['1']);
    expect(t.saved.at(-1)).toMatchObject({ lastSeq: 2, outbox: [{ seq: 2 }] });
    expect(parseStatus(t.cmd('STA'))).toMatchObject({ outbox: 1, lastSeq: 2, selfTest: 'ok' });

    // A restart from the saved state: the unacked record goes out again after CFG, the seq goes on.
    const again = device('psem', JSON.parse(JSON.stringify(t.saved.at(-1))) as EmulatorState);
    again.cmd('CFG', ['dev-1', 'psem']);
    again.cmd('TIM', [String(T0 + 60_000), '60']);
    again.cmd('TMP');
    expect(again.drain().map((r) => r.seq)).toEqual([2, 3]);
  });

  it('sends its unacked records again after the ack timeout and after a CFG', () => {
    const t = configured('psem', 1);
    t.cmd('TMP');
    expect(t.drain().map((r) => r.seq)).toEqual([1]);
    t.advance(4_999); // DOMAIN.md: 5 s ack timeout at speed 1
    expect(t.drain()).toEqual([]);
    t.advance(1);
    expect(t.drain().map((r) => r.seq)).toEqual([1]);
    t.cmd('CFG', ['dev-1', 'psem']);
    expect(t.drain().map((r) => r.seq)).toEqual([1]);
    t.cmd('AAK', ['1']);
    t.advance(10_000);
    expect(t.drain().filter((r) => r.type === 'event')).toEqual([]);
  });

  it('reports a state file it cannot write in its self-test instead of failing', () => {
    const s: EmulatorState = { v: 1, serialNumber: 'EMU-1', deviceType: 'psem', lastSeq: 0, outbox: [] };
    const d = new EmulatedBracelet({ state: s, persist: () => { throw new Error('EROFS: read-only file system'); } });
    d.handle({ seq: 0, type: 'CFG', fields: ['dev-1', 'psem'] });
    expect(parseStatus(d.handle({ seq: 1, type: 'STA', fields: [] })).selfTest).toBe('state file: EROFS: read-only file system');
  });
});
