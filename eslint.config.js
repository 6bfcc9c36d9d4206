// Lint: strict TypeScript rules that matter for thousands of async devices (a floating promise is a
// dropped alarm, STYLE.md §8), and the layer rules of DESIGN.md "The house": imports flow one way.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'net', 'http', 'https', 'os', 'path', 'child_process', 'crypto', 'stream', 'events', 'worker_threads', 'timers', 'dgram', 'tls'];

/** One layer: which of our folders its files may not import. */
function layer(files, forbidden, extra = []) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...forbidden.map((dir) => ({
            group: [`**/${dir}/*`, `**/${dir}`],
            message: `DESIGN.md "The house": this layer may not import ${dir}/.`,
          })),
          ...extra,
        ],
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'runs/**', 'test-output/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The k6 script's sources are typed against @types/k6, not @types/node: their own tsconfig.
    files: ['scenarios/k6/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: ['./scenarios/k6/tsconfig.json'], tsconfigRootDir: import.meta.dirname } },
  },
  layer(['scenarios/k6/**/*.ts'], ['sim/network', 'sim/transport', 'hil', 'pipeline', 'verify', 'reports', 'cli'], [
    // 'timers' would also match k6's own k6/timers.
    { group: nodeBuiltins.filter((m) => m !== 'timers'), message: 'scenarios/k6 is bundled into a k6 script: no Node built-ins (DESIGN.md).' },
  ]),
  layer(['protocol/**/*.ts'], ['sim', 'hil', 'pipeline', 'verify', 'reports', 'scenarios', 'cli']),
  layer(['sim/model/**/*.ts'], ['sim/network', 'hil', 'pipeline', 'verify', 'reports', 'scenarios', 'cli'], [
    { group: nodeBuiltins, message: 'sim/model is pure: no Node built-ins, the same code runs inside k6 (DESIGN.md).' },
  ]),
  layer(['sim/*.ts', 'sim/network/**/*.ts'], ['hil', 'pipeline', 'verify', 'reports', 'scenarios', 'cli']),
  layer(['hil/**/*.ts'], ['pipeline', 'verify', 'reports', 'scenarios', 'cli']),
  layer(['pipeline/**/*.ts'], ['sim', 'hil', 'verify', 'reports', 'scenarios', 'cli']),
  layer(['verify/**/*.ts'], ['hil', 'pipeline', 'reports', 'scenarios', 'cli']),
  layer(['reports/**/*.ts'], ['sim', 'hil', 'pipeline', 'scenarios', 'cli']),
  // The project config and the safety interlock: what the CLI checks before a run touches anything.
  layer(['config/**/*.ts'], ['sim', 'hil', 'pipeline', 'verify', 'reports', 'scenarios', 'cli']),
);
