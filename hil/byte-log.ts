/**
 * The raw byte log of one device (issue 5: "a raw, timestamped byte log per device in the run
 * directory"): every chunk in both directions as it crossed the port, with the real time, in hex
 * and printable ASCII, so a firmware engineer can see exactly what went over the wire.
 *
 *     2026-11-30T14:50:01.123Z > 24 30 2c 49 44 4e 2a 31 41 32 42 0d 0a  |$0,IDN*1A2B..|
 *     2026-11-30T14:50:01.131Z < 24 30 2c 41 43 4b 2c …                  |$0,ACK,…|
 *
 * `>` is harness → device, `<` device → harness. Appended, never truncated: a session that
 * reconnects keeps writing to the same file.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface ByteLog {
  write(direction: 'in' | 'out', bytes: Buffer): void;
  close(): Promise<void>;
}

/** One log line: time, direction, hex, and the bytes with non-printables as ".". */
export function byteLogLine(at: Date, direction: 'in' | 'out', bytes: Buffer): string {
  const hexText = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const ascii = [...bytes].map((b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.')).join('');
  return `${at.toISOString()} ${direction === 'out' ? '>' : '<'} ${hexText}  |${ascii}|\n`;
}

export function openByteLog(file: string, now: () => Date = () => new Date()): ByteLog {
  const out = createWriteStream(file, { flags: 'a' });
  // A log that cannot be written must not take the session down; the first failure is kept to tell.
  let failed: Error | undefined;
  out.on('error', (err) => (failed ??= err));
  return {
    write(direction, bytes) {
      if (!failed) out.write(byteLogLine(now(), direction, bytes));
    },
    async close() {
      if (out.closed || out.destroyed) return;
      out.end();
      await once(out, 'close').catch(() => undefined);
    },
  };
}
