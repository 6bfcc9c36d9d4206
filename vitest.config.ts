import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // test/hil drives a real device (HIL_PORT): only `npm run test:hil` (HIL=1) runs it.
    exclude: ['node_modules/**', 'runs/**', ...(process.env.HIL ? [] : ['test/hil/**'])],
    // End-to-end runs start brokers, pipelines and a fleet: give them room, and run files one or
    // two at a time so a 2-core CI machine is not oversubscribed.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
