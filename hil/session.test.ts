/**
 * DeviceSession on @serialport/binding-mock: the reference bracelet's state machine answers on the
 * far end of each port the session opens, and a test makes it fall silent, unplugs it, or feeds
 * bad records. The same session on real pseudo-terminals is test/e2e/hil-pty.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPortMock } from 'serialport';
import { RECORD_FRAME_TYPE, recordFields } from '../protocol/serial-messages.ts';
import { VigilError } from '../protocol/errors.ts';
import type { UplinkRecord } from '../protocol/uplink.ts';
import { makeListHilPorts } from './discovery.ts';
import { EmulatedBracelet } from './emulated-device.ts';
import { HilError } from './errors.ts';
import type { LinkRefusal } from './link.ts';
import { openHilSessionWith, type DeviceSession, type SessionDeps } from './session.ts';
import { MockFarEnd } from './test-support.ts';

const PATH = '/dev/ttyACM3';

/** A bracelet behind every port the session opens; `silent` makes it stop answering. */
class MockDevice {
  silent = false;
  readonly bracelet = new EmulatedBracelet({ state: { v: 1, serialNumber: 'MOCK-1', deviceType: 'bar_perpetrator', lastSeq: 0, outbox: [] }, persist: () => undefined });
  readonly received: string[] = [];
  far: MockFarEnd | undefined;
  private stopped = false;
  private deviceSeq = 100;

  readonly deps: SessionDeps = {
    list: makeListHilPorts(() => SerialPortMock.list()),
    open: async (path, baudRate) => {
      const port = new SerialPortMock({ path, baudRate, lock: true, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      this.far = MockFarEnd.of(port);
      void this.answer(this.far);
      return port;
    },
  };

  private async answer(far: MockFarEnd): Promise<void> {
    while (!this.stopped && far.port.isOpen) {
      const f = await far.nextFrame(60_000).catch(() => undefined);
      if (!f || f.type === 'ACK' || f.type === 'NAK' || this.silent) continue;
      if (!far.port.isOpen) return; // unplugged while the frame was read
      this.received.push(f.type);
      try {
        far.send(f.seq, 'ACK', this.bracelet.handle(f));
      } catch (err) {
        far.send(f.seq, 'NAK', [(err as LinkRefusal).reason ?? 'invalid', (err as Error).message]);
      }
    }
  }

  /** The device sends a record frame (fields as given: a test may break them). */
  sendRecord(type: 'POS' | 'HBT' | 'EVT', fields: readonly string[]): void {
    this.far?.send(this.deviceSeq++ % 256, type, fields);
  }

  stop(): void {
    this.stopped = true;
  }
}

let device: MockDevice;
let session: DeviceSession | undefined;

async function open(): Promise<DeviceSession> {
  SerialPortMock.binding.reset();
  SerialPortMock.binding.createPort(PATH, { vendorId: '0483', productId: '5740', record: true });
  device = new MockDevice();
  session = await openHilSessionWith({ vendorId: '0483', productId: '5740' }, { ackTimeoutMs: 50, retries: 1, keepAliveMs: 100 }, device.deps);
  return session;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(async () => {
  await session?.close();
  session = undefined;
  device.stop();
});

const hbt = (seq: number): UplinkRecord => ({ device: 'bar-1', seq, time: 1_635_170_400_000 + seq, battery: 80, type: 'heartbeat' });

describe('DeviceSession (binding-mock)', () => {
  it('finds the port by vendor/product id, locks it, and identifies the device', async () => {
    const s = await open();
    expect(s.identity).toMatchObject({ serialNumber: 'MOCK-1', deviceTypes: ['bar_perpetrator'], protocolVersion: 1 });
    expect(s.port).toMatchObject({ path: PATH, vendorId: '0483', productId: '5740' });
    expect(s.state).toBe('up');

    const second = await openHilSessionWith({ path: undefined, vendorId: '0483' }, {}, device.deps).then(() => undefined, (e: unknown) => e);
    expect(second).toBeInstanceOf(VigilError);
    expect((second as VigilError).code).toBe('VIGIL_HIL_PORT_BUSY');
    expect((second as VigilError).oneLine()).toMatch(/\/dev\/ttyACM3 is in use by another program[\s\S]*available ports:\n.*\n\/dev\/ttyACM3\s+0483:5740/);
  });

  it('relays commands, refuses SOS on a BAR perpetrator unit with a HilError, and delivers records once each', async () => {
    const s = await open();
    await s.configure({ deviceId: 'bar-1', deviceType: 'bar_perpetrator' });
    await s.setTime(1_635_170_400_000, 10);
    const sos = await s.sos().then(() => undefined, (e: unknown) => e);
    expect(sos).toBeInstanceOf(HilError);
    expect((sos as HilError).message).toMatch(/refused SOS .*NAK refused — a BAR perpetrator unit has no SOS button/);

    const seen: UplinkRecord[] = [];
    s.onRecord((r) => seen.push(r));
    device.sendRecord('HBT', recordFields(hbt(1)));
    device.sendRecord('POS', ['bar-1', '2', '1635170400002', '80', '91', '2', '5']); // lat out of range: NAK invalid
    device.sendRecord('HBT', recordFields(hbt(3)));
    expect(await s.expectRecord((r) => r.seq === 3, { timeoutMs: 1000 })).toEqual(hbt(3));
    expect(seen.map((r) => r.seq)).toEqual([1, 3]);
    expect(s.stats.naksSent).toBe(1);
    // (the en dash of the detail goes out escaped: ^E2^80^93)
    await waitFor('the NAK on the wire', () => device.far?.written().includes(',NAK,invalid,invalid POS payload: lat must be -90^E2^80^9390') === true);
  });

  it('names what did arrive when an expectation times out', async () => {
    const s = await open();
    device.sendRecord(RECORD_FRAME_TYPE.heartbeat, recordFields(hbt(7)));
    const err = await s.expectRecord((r) => r.type === 'position', { timeoutMs: 100 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).code).toBe('VIGIL_HIL_EXPECT_TIMEOUT');
    expect((err as HilError).message).toMatch(/no matching record from the device on \/dev\/ttyACM3 within 100 ms \(received meanwhile: heartbeat#7\)/);
  });

  it('goes down when the device stops answering, refuses commands meanwhile, and comes back configured when it answers again', async () => {
    const s = await open();
    await s.configure({ deviceId: 'bar-1', deviceType: 'bar_perpetrator' });
    await s.setTime(1_635_170_400_000, 10);
    const states: string[] = [];
    s.onState((st) => states.push(st));
    device.silent = true;
    await waitFor('down (keep-alive STA unanswered)', () => s.state === 'down');
    const refused = await s.injectTamper().then(() => undefined, (e: unknown) => e);
    expect((refused as HilError).code).toBe('VIGIL_HIL_DOWN');
    expect(s.stats.timeouts).toBeGreaterThanOrEqual(2);

    device.received.length = 0;
    device.silent = false;
    await waitFor('up again', () => s.state === 'up');
    expect(states).toEqual(['down', 'up']);
    // (a keep-alive STA retransmit may come first)
    expect(device.received.filter((t) => t !== 'STA').slice(0, 3)).toEqual(['IDN', 'CFG', 'TIM']);
    expect(s.stats.reconnects).toBe(1);
  });

  it('goes down when the port closes (an unplug) and reopens the same match', async () => {
    const s = await open();
    const first = device.far;
    await new Promise<void>((r) => first?.port.close(() => r()));
    await waitFor('down', () => s.state === 'down');
    await waitFor('up on a new port', () => s.state === 'up' && device.far !== first);
    // The new link carries commands (this device was never configured, so it refuses a stimulus).
    await expect(s.injectTamper()).rejects.toMatchObject({ code: 'VIGIL_HIL_REFUSED', message: expect.stringMatching(/TMP before CFG/) });
    expect(s.stats.reconnects).toBe(1);
  });
});
