import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { resolveAssets } from './assets.js';
import { startControlPlane, type ControlPlaneInfo } from './control-plane.js';
import { startNodeForRun, type E2ENodeContext } from './node-setup.js';
import { killAllNow } from './process.js';

export type E2EContext = { readonly controlPlane: ControlPlaneInfo } | { readonly skip: string };

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2EContext;
    e2eNode: E2ENodeContext;
  }
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * One control plane for the whole e2e run. Without one (no Go, no KUBEBUILDER_ASSETS) the e2e tests are skipped
 * with one line saying how to enable them, unless REGISTRY_GATE_E2E=required (CI), where that is a failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.REGISTRY_GATE_E2E === 'required';
  const assets =
    process.env.REGISTRY_GATE_E2E === 'off'
      ? { skip: 'REGISTRY_GATE_E2E=off' }
      : await resolveAssets(repoRoot, process.env);
  if ('skip' in assets) {
    if (required) throw new Error(`e2e tests are required (REGISTRY_GATE_E2E=required) but: ${assets.skip}`);
    process.stderr.write(`e2e: skipped: ${assets.skip}\n`);
    project.provide('e2e', { skip: assets.skip });
    project.provide('e2eNode', { skip: assets.skip });
    return async () => {};
  }
  process.stderr.write(`e2e: control plane from ${assets.how}\n`);
  // The gate runs as users run it, from dist/: build it so the tests never judge a stale build.
  await promisify(execFile)(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: repoRoot,
    },
  );

  // Inside the checkout (git-ignored): every process the suite starts names this path in its arguments, so a
  // check for leftovers (.ci/run does one) can find exactly this checkout's processes.
  await mkdir(join(repoRoot, '.e2e'), { recursive: true });
  const dir = await mkdtemp(join(repoRoot, '.e2e', 'control-plane-'));
  const onSignal = (): void => {
    killAllNow();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  const controlPlane = await startControlPlane(assets.dir, dir);
  process.stderr.write(
    `e2e: control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${dir})\n`,
  );
  const { stop, ...info } = controlPlane;
  project.provide('e2e', { controlPlane: info });
  // The node cluster (kubelet, containerd, the mirror, registry-gate's own image): a second, separate cluster in
  // its own namespaces; its tests skip with one line where it cannot run, unless e2e is required.
  const node = await startNodeForRun(repoRoot, assets.dir, dir, required).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  project.provide('e2eNode', node.context);
  return async () => {
    await node.stop();
    await stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (process.env.REGISTRY_GATE_E2E_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  };
}
