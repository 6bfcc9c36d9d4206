/**
 * A HIL device named in text (`--hil`, `vigil hil probe`, a scenario's `hil[].device`): a path, or
 * serial=…, vid=…, pid=… — parsed and checked here with nothing heavier than the error type, so the
 * CLI checks `--hil` without loading the serial port library (cli/main.ts).
 */
import { VigilError } from '../protocol/errors.ts';
import type { HilMatch } from './api.ts';

/** A USB vendor or product id as 4 lowercase hex digits (SerialPort.list writes them so too). */
export const hexId = (id: string | undefined): string | undefined => id?.toLowerCase().replace(/^0x/, '').padStart(4, '0');

/**
 * The text form of a match (CLI `--hil`, `vigil hil probe`, scenario `hil[].device`): a path,
 * `serial=ABC123`, or `vid=0483,pid=5740[,serial=…]`.
 */
export function parseHilMatch(text: string): HilMatch {
  const t = text.trim();
  if (t.startsWith('/') || t.startsWith('.')) return { path: t };
  const m: { serialNumber?: string; vendorId?: string; productId?: string } = {};
  for (const part of t.split(',')) {
    const [key, value] = part.split('=', 2).map((s) => s.trim());
    if (!value) throw badMatch(`"${text}" is not a device: "${part}" is not key=value`);
    if (key === 'serial') m.serialNumber = value;
    else if (key === 'vid' && /^(0x)?[0-9a-fA-F]{1,4}$/.test(value)) m.vendorId = hexId(value);
    else if (key === 'pid' && /^(0x)?[0-9a-fA-F]{1,4}$/.test(value)) m.productId = hexId(value);
    else throw badMatch(`"${text}" is not a device: "${part}" is not serial=…, vid=<hex> or pid=<hex>`);
  }
  return m;
}

/** A match that names no device: the error, and how to write one. */
export function badMatch(message: string): VigilError {
  return new VigilError('VIGIL_USAGE', message, 'name a device by a path (/dev/serial/by-id/…, a pty link), serial=ABC123 or vid=0483,pid=5740[,serial=…]');
}

/** How a person would write the match back. */
export function describeMatch(m: HilMatch): string {
  if (m.path) return m.path;
  return [m.vendorId && `vid=${m.vendorId}`, m.productId && `pid=${m.productId}`, m.serialNumber && `serial=${m.serialNumber}`].filter(Boolean).join(',') || '(empty match)';
}

/** The text of a device match, or why it is not one (the same for `vigil hil probe`). */
export function hilMatchProblem(text: string): string | undefined {
  try {
    parseHilMatch(text);
    return undefined;
  } catch (err) {
    if (err instanceof VigilError) return `${err.message}: ${err.fix}`;
    throw err;
  }
}

/**
 * `--hil a,b,…`: the devices of a comma-separated list. A vid/pid match has commas of its own, so
 * `pid=` (and `serial=` after a vid) continue the match before them.
 */
export function splitHilList(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const prev = out[out.length - 1];
    const continues = prev !== undefined && prev.startsWith('vid=') && (part.startsWith('pid=') || (part.startsWith('serial=') && !prev.includes('serial=')));
    if (continues) out[out.length - 1] = `${prev},${part}`;
    else out.push(part);
  }
  return out;
}

