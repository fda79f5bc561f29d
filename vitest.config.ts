import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // A process that a test started and that crashed fails that test (tests/setup/crash-watch.ts).
    setupFiles: ['tests/setup/crash-watch.ts'],
    // Integration and e2e tests fork real processes and time real sockets; on a
    // 2-core machine running files in parallel turns timing margins into flakes.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
