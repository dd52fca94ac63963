import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Process tests spawn real children and send real signals: forks, not threads.
    pool: 'forks',
    globalSetup: ['test/setup/build.ts', 'test/setup/services.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
