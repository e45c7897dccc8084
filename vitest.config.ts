import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (src/**), HTTPS and CLI tests in test/. The e2e suite (test/e2e) drives a real
// control plane with kubectl; it runs after the unit project, one file at a time (they share one cluster), and
// skips itself with one line saying how to enable it where no control plane can be had. The image project
// (test/image) builds the production image twice with `npm run image`, pushes it and runs it: about a minute.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/image/**', 'node_modules/**', 'dist/**', 'dist-image/**'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          globalSetup: ['test/e2e/harness/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'image',
          include: ['test/image/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
