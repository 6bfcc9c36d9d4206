import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VigilError } from '../protocol/errors.ts';
import { loadProjectConfig } from './project-config.ts';

function project(configText?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  if (configText !== undefined) writeFileSync(join(dir, 'vigil.config.ts'), configText);
  return dir;
}

async function refusal(configText: string): Promise<string> {
  const err = await loadProjectConfig(project(configText)).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VigilError);
  expect((err as VigilError).code).toBe('VIGIL_CONFIG_INVALID');
  return (err as VigilError).oneLine();
}

describe('the project config (vigil.config.ts)', () => {
  it('is the defaults when there is no file', async () => {
    const dir = project();
    expect(await loadProjectConfig(dir)).toEqual({ file: undefined, path: join(dir, 'vigil.config.ts'), config: { targets: { allow: [] } } });
  });

  it('reads targets.allow from the file', async () => {
    const dir = project("const hosts: string[] = ['staging-broker.example', '10.1.2.3'];\nexport default { targets: { allow: hosts } };\n");
    expect(await loadProjectConfig(dir)).toMatchObject({ file: join(dir, 'vigil.config.ts'), config: { targets: { allow: ['staging-broker.example', '10.1.2.3'] } } });
  });

  it('names the field that is wrong, and how to fix it', async () => {
    expect(await refusal("export default { targets: { allow: ['ok.example', 'mqtt://10.1.2.3:1883'] } };\n"))
      .toMatch(/vigil\.config\.ts: targets\.allow\.1: "mqtt:\/\/10\.1\.2\.3:1883" is a URL: write its host alone, like "10\.1\.2\.3" — fix targets\.allow\.1 in .*vigil\.config\.ts/);
    expect(await refusal("export default { targets: { allow: '10.1.2.3' } };\n")).toMatch(/targets\.allow: .*got "10\.1\.2\.3"/);
    expect(await refusal("export default { target: { allow: [] } };\n")).toMatch(/\(config\): Unrecognized key: "target"/);
  });

  it('says so when the file has no default export or does not load', async () => {
    expect(await refusal('export const targets = {};\n')).toMatch(/has no default export — end it with `export default defineConfig/);
    expect(await refusal("throw new Error('boom');\n")).toMatch(/does not load: boom — fix the error in the file/);
  });
});
