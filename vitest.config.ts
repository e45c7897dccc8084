import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (src/**), HTTPS and CLI tests in test/; the e2e suite against a real control
// plane is its own project (test/e2e) and skips itself, saying how to enable it, where no control plane exists.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**', 'dist/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
