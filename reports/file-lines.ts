import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The lines of a file, read in chunks: a long run's journal can pass the largest string V8 makes
 * (~512 MB), so it is never read whole. Hand-written over node:readline because the report is
 * written synchronously as the run's last step.
 */
export function* fileLines(file: string, chunkBytes = 16 * 1024 * 1024): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(chunkBytes);
    // Bytes after the last newline so far, copied (the buffer is reused): a chunk may end inside a line, even inside a UTF-8 sequence.
    let rest: Buffer[] = [];
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      const cut = buffer.lastIndexOf(0x0a, n - 1);
      if (cut < 0) {
        rest.push(Buffer.from(buffer.subarray(0, n)));
        continue;
      }
      const lines = Buffer.concat([...rest, buffer.subarray(0, cut)]).toString('utf8').split('\n');
      rest = [Buffer.from(buffer.subarray(cut + 1, n))];
      yield* lines;
    }
    if (rest.length > 0) yield Buffer.concat(rest).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
