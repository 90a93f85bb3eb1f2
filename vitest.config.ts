import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/kafka-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two files at a time: most tests wait on the broker, timers or child processes rather than
    // compute, so on a 2-core machine the suite runs in about half the wall time of one at a time
    // (vitest's default here, cores - 1).
    maxWorkers: 2,
  },
});
