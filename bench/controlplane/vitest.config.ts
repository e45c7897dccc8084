import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The control-plane benchmark only (npm run bench:controlplane): the e2e globalSetup starts etcd, kube-apiserver and
// kube-controller-manager; the one "test" measures and reports. The main config's projects never include this
// directory, so npm test does not run it.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['bench/controlplane/creates.run.ts'],
    globalSetup: ['test/e2e/harness/global-setup.ts'],
    fileParallelism: false,
    // A benchmark, not a timed test: its own flags bound its length.
    testTimeout: 3_600_000,
    hookTimeout: 180_000,
    // The figures go straight to the terminal, as the run prints them.
    disableConsoleIntercept: true,
  },
});
