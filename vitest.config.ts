import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Memory tests call gc() so that dropped segments are collected and their RSS really returns.
    execArgv: ['--expose-gc'],
  },
});
