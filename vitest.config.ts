import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // chDB holds one data directory per process: every test file gets its own process.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    include: ['test/**/*.test.ts'],
  },
});
