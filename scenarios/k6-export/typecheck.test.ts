/**
 * The k6 script's sources typecheck against @types/k6 (scenarios/k6/tsconfig.json), and against
 * k6's types only: a Node API used by mistake would be a type error here, not a crash inside k6.
 */
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CONFIG = fileURLToPath(new URL('../k6/tsconfig.json', import.meta.url));

describe('the k6 script', () => {
  it('typechecks against @types/k6 without @types/node', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(CONFIG, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
    if (!parsed) throw new Error(`cannot read ${CONFIG}`);
    const program = ts.createProgram(parsed.fileNames, parsed.options);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' }));
    expect(problems).toEqual([]);
    const files = program.getSourceFiles().map((f) => f.fileName);
    expect(files.some((f) => f.includes('/@types/k6/execution/'))).toBe(true);
    expect(files.some((f) => f.includes('/sim/model/firmware.ts'))).toBe(true);
    expect(files.some((f) => f.includes('/@types/node/'))).toBe(false);
  }, 30_000);
});
