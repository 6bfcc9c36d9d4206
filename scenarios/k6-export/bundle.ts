/**
 * Bundles scenarios/k6/script.ts with the device model into one self-contained k6 script (an ES
 * module importing only k6's own modules and k6/x/mqtt), the export configuration baked in as the
 * virtual module 'vigil:export', and luxon replaced by the offset-table shim (k6 has no Intl).
 */
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { ExportConfig } from '../k6/export-config.ts';

const K6_DIR = fileURLToPath(new URL('../k6/', import.meta.url));

function vigilModules(config: ExportConfig): Plugin {
  return {
    name: 'vigil-k6',
    setup(b) {
      b.onResolve({ filter: /^vigil:export$/ }, () => ({ path: 'export', namespace: 'vigil' }));
      b.onLoad({ filter: /.*/, namespace: 'vigil' }, () => ({ contents: JSON.stringify(config), loader: 'json' }));
      b.onResolve({ filter: /^luxon$/ }, () => ({ path: `${K6_DIR}luxon-shim.ts` }));
    },
  };
}

/** The script's text. */
export async function bundleK6Script(config: ExportConfig, banner: string): Promise<string> {
  const out = await build({
    entryPoints: [`${K6_DIR}script.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    // k6's runtime (sobek) runs modern JavaScript but not every recent addition: ES2020 has esbuild
    // lower class fields, `??=` and friends, and keeps what sobek has (async, optional chaining).
    target: 'es2020',
    external: ['k6', 'k6/*'],
    plugins: [vigilModules(config)],
    banner: { js: banner },
    legalComments: 'none',
    logLevel: 'silent',
  });
  return (out.outputFiles[0] as { text: string }).text;
}
