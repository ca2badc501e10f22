import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'web/dist/**', '.local/**', 'tests/browser/**'],
    globalSetup: ['tests/harness/global-setup.ts'],
    pool: 'forks',
    // Most files wait on servers they start (a gateway under Deno, a relay, anvil, a private NATS) rather than
    // compute: vitest's default of one fewer worker than cores would run them one at a time on 2 cores. Each
    // file works in its own databases, streams and ports (tests/harness), so files can overlap.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
