import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VigilError } from '../protocol/errors.ts';
import type { HilPortInfo } from './api.ts';
import { makeListHilPorts, portsTable, resolveHilPort } from './discovery.ts';
import { describeMatch, parseHilMatch } from './match.ts';
import { SerialPortMock } from 'serialport';

const ports: HilPortInfo[] = [
  { path: '/dev/ttyUSB0', stablePath: '/dev/serial/by-id/usb-ACME_Bracelet_A1-if00', vendorId: '0483', productId: '5740', serialNumber: 'A1', manufacturer: 'ACME' },
  { path: '/dev/ttyUSB1', vendorId: '0483', productId: '5740', serialNumber: 'B2', manufacturer: 'ACME' },
  { path: '/dev/ttyS0' },
];
const list = async (): Promise<HilPortInfo[]> => ports;

const dir = mkdtempSync(join(tmpdir(), 'vigil-discovery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<VigilError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VigilError);
  return err as VigilError;
}

describe('device matches', () => {
  it('parses paths, serial numbers and vendor/product ids, and writes them back', () => {
    expect(parseHilMatch('/dev/serial/by-id/usb-x')).toEqual({ path: '/dev/serial/by-id/usb-x' });
    expect(parseHilMatch('serial=A1')).toEqual({ serialNumber: 'A1' });
    expect(parseHilMatch('vid=0x483,pid=5740,serial=B2')).toEqual({ vendorId: '0483', productId: '5740', serialNumber: 'B2' });
    expect(describeMatch(parseHilMatch('vid=483,pid=5740'))).toBe('vid=0483,pid=5740');
    expect(() => parseHilMatch('ttyUSB0')).toThrow(/"ttyUSB0" is not key=value/);
    expect(() => parseHilMatch('vid=zz')).toThrow(/is not serial=…, vid=<hex> or pid=<hex>/);
  });

  it('resolves a serial number or vid/pid to the stable path when there is one', async () => {
    expect(await resolveHilPort({ serialNumber: 'A1' }, list)).toMatchObject({ path: '/dev/serial/by-id/usb-ACME_Bracelet_A1-if00', serialNumber: 'A1' });
    expect(await resolveHilPort({ vendorId: '483', productId: '5740', serialNumber: 'B2' }, list)).toMatchObject({ path: '/dev/ttyUSB1' });
  });

  it('refuses /dev/ttyUSBn, which changes on replug, and says what to use instead', async () => {
    const err = await failure(resolveHilPort({ path: '/dev/ttyUSB0' }, list));
    expect(err.code).toBe('VIGIL_USAGE');
    expect(err.oneLine()).toMatch(/\/dev\/ttyUSB0 changes when the device is plugged in again[\s\S]*by-id/);
  });

  it('names a missing or ambiguous device and lists the ports there are', async () => {
    const missing = await failure(resolveHilPort({ serialNumber: 'Z9' }, list));
    expect(missing.code).toBe('VIGIL_HIL_PORT_NOT_FOUND');
    expect(missing.message).toContain('no serial port matches serial=Z9');
    expect(missing.oneLine()).toContain('available ports:');
    expect(missing.oneLine()).toMatch(/\/dev\/ttyUSB1\s+0483:5740\s+B2\s+ACME/);
    const ambiguous = await failure(resolveHilPort({ vendorId: '0483', productId: '5740' }, list));
    expect(ambiguous.message).toMatch(/2 ports match vid=0483,pid=5740/);
    const noPath = await failure(resolveHilPort({ path: join(dir, 'nothing-here') }, list));
    expect(noPath.code).toBe('VIGIL_HIL_PORT_NOT_FOUND');
  });

  it('accepts a pty or a link by its path', async () => {
    const target = join(dir, 'pty-like');
    writeFileSync(target, '');
    symlinkSync(target, join(dir, 'link'));
    expect(await resolveHilPort({ path: join(dir, 'link') }, list)).toEqual({ path: join(dir, 'link'), stablePath: undefined });
  });

  it('lists ports as a table, with their ids in lowercase hex', async () => {
    SerialPortMock.binding.reset();
    SerialPortMock.binding.createPort('/dev/ttyACM7', { vendorId: '0483', productId: '5740', manufacturer: 'STMicro' });
    const listed = await makeListHilPorts(() => SerialPortMock.list())();
    expect(listed).toEqual([{ path: '/dev/ttyACM7', stablePath: undefined, vendorId: '0483', productId: '5740', serialNumber: '1', manufacturer: 'STMicro' }]);
    expect(portsTable(listed).split('\n')).toEqual([
      'path          vendor:product  serial number  manufacturer  stable path',
      '/dev/ttyACM7  0483:5740       1              STMicro       -',
    ]); // columns padded to the widest cell
    expect(portsTable([])).toMatch(/no serial ports found/);
  });
});
