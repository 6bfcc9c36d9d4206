import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/support/cli.ts';
import { fileLines } from './file-lines.ts';

describe('reading a file line by line in chunks', () => {
  const text = '{"t":"a"}\n{"zone":"Z-é→ü"}\n\nno newline within seven bytes\n€€€\ntorn last line';
  const file = join(tempDir(), 'lines.jsonl');
  writeFileSync(file, text);

  it('gives the same lines as splitting the whole text, whatever the chunk size — across lines and inside UTF-8 sequences', () => {
    for (const chunk of [1, 2, 3, 7, 16, 1024]) expect([...fileLines(file, chunk)], `chunk ${chunk}`).toEqual(text.split('\n'));
  });

  it('an empty file has no line', () => {
    const empty = join(tempDir(), 'empty');
    writeFileSync(empty, '');
    expect([...fileLines(empty)]).toEqual([]);
  });
});
