/**
 * Finding a HIL device's port (issue 5): list the serial ports with their USB identity and stable
 * path, and resolve a HilMatch to the one port to open.
 *
 * A device is named by what survives a replug: its serial number, its vendor/product id, or a
 * stable path (/dev/serial/by-id/…, which udev points at whatever ttyUSBn the device got this
 * time; or a pseudo-terminal link made by socat). Never by /dev/ttyUSBn or /dev/ttyACMn: those
 * numbers follow plug order and change on replug, and the run would talk to the wrong device.
 */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { VigilError, type VigilErrorCode } from '../protocol/errors.ts';
import type { HilMatch, HilPortInfo, ListHilPorts } from './api.ts';
import { badMatch, describeMatch, hexId } from './match.ts';

const BY_ID = '/dev/serial/by-id';
/** Kernel names handed out in plug order (USB serial adapters, CDC-ACM devices). */
const UNSTABLE = /^\/dev\/tty(USB|ACM)[0-9]+$/;

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Real device path → its /dev/serial/by-id/… link (none when udev made none, e.g. no by-id folder). */
function stableLinks(): Map<string, string> {
  const map = new Map<string, string>();
  if (!existsSync(BY_ID)) return map;
  for (const name of readdirSync(BY_ID)) map.set(realpathOr(join(BY_ID, name)), join(BY_ID, name));
  return map;
}


/** `list` defaults to SerialPort.list (tests pass the mock binding's). */
export function makeListHilPorts(list: () => Promise<{ path: string; vendorId?: string; productId?: string; serialNumber?: string; manufacturer?: string }[]> = () => SerialPort.list()): ListHilPorts {
  return async () => {
    const links = stableLinks();
    return (await list()).map((p) => ({
      path: p.path,
      stablePath: links.get(realpathOr(p.path)),
      vendorId: hexId(p.vendorId),
      productId: hexId(p.productId),
      serialNumber: p.serialNumber,
      manufacturer: p.manufacturer,
    }));
  };
}

export const listHilPorts: ListHilPorts = makeListHilPorts();

/** The ports as a table (for `vigil hil list` and for errors that list what is there). */
export function portsTable(ports: readonly HilPortInfo[]): string {
  if (ports.length === 0) return '(no serial ports found; a pseudo-terminal is named by its path, e.g. the one `vigil hil emulate` prints)';
  const rows = [['path', 'vendor:product', 'serial number', 'manufacturer', 'stable path'],
    ...ports.map((p) => [p.path, p.vendorId || p.productId ? `${p.vendorId ?? '?'}:${p.productId ?? '?'}` : '-', p.serialNumber ?? '-', p.manufacturer ?? '-', p.stablePath ?? '-'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}

/** A port that is missing, busy or named the wrong way: the one line, then the ports there are (issue 5: exit 2 with the list). */
export class HilPortError extends VigilError {
  constructor(code: VigilErrorCode, message: string, fix: string, readonly ports: readonly HilPortInfo[]) {
    super(code, message, fix);
  }

  override oneLine(): string {
    return `${super.oneLine()}\navailable ports:\n${portsTable(this.ports)}`;
  }
}

function portError(code: 'VIGIL_HIL_PORT_NOT_FOUND' | 'VIGIL_HIL_PORT_BUSY' | 'VIGIL_USAGE', message: string, fix: string, ports: readonly HilPortInfo[]): HilPortError {
  return new HilPortError(code, message, fix, ports);
}

/** Resolves a match to one port; `path` in the result is what to open (the stable path when there is one). */
export async function resolveHilPort(match: HilMatch, list: ListHilPorts = listHilPorts): Promise<HilPortInfo> {
  const ports = await list();
  if (match.path) {
    if (UNSTABLE.test(match.path)) {
      throw portError('VIGIL_USAGE', `${match.path} changes when the device is plugged in again`,
        'name it by its /dev/serial/by-id/… path, serial=<serial number> or vid=…,pid=… (see vigil hil list)', ports);
    }
    if (!existsSync(match.path)) {
      throw portError('VIGIL_HIL_PORT_NOT_FOUND', `no serial port at ${match.path}`, 'plug the device in, or start `vigil hil emulate` and use the path it prints', ports);
    }
    const real = realpathOr(match.path);
    const known = ports.find((p) => realpathOr(p.path) === real);
    return { ...known, path: match.path, stablePath: known?.stablePath ?? (match.path.startsWith(BY_ID) ? match.path : undefined) };
  }
  if (!match.serialNumber && !match.vendorId && !match.productId) throw badMatch('an empty device match');
  const found = ports.filter((p) =>
    (!match.serialNumber || p.serialNumber === match.serialNumber) && (!match.vendorId || p.vendorId === hexId(match.vendorId)) && (!match.productId || p.productId === hexId(match.productId)));
  if (found.length === 0) {
    throw portError('VIGIL_HIL_PORT_NOT_FOUND', `no serial port matches ${describeMatch(match)}`, 'plug the device in, or check the match against the list', ports);
  }
  if (found.length > 1) {
    throw portError('VIGIL_USAGE', `${found.length} ports match ${describeMatch(match)}`, 'add serial=<serial number> to pick one', ports);
  }
  const p = found[0] as HilPortInfo;
  return { ...p, path: p.stablePath ?? p.path };
}
