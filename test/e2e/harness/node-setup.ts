import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cniBinDir,
  inNamespace,
  nodePrerequisitesMissing,
  startNodeCluster,
  which,
  type NodeClusterInfo,
} from './node-cluster.js';
import { gateImageInMirror, pushBusyboxImages, writeDockerConfig } from './node-images.js';

export type E2ENodeContext = { readonly node: NodeClusterInfo } | { readonly skip: string };

/** Runs test/e2e/node/build-tools.sh (registry, crane, containerd; cached) and returns its directory. */
function buildTools(repoRoot: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'test/e2e/node/build-tools.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`test/e2e/node/build-tools.sh exited ${code}`));
    });
  });
}

/**
 * `npm run image` outside the cluster's namespaces, which have no network: it fetches and caches the image's pinned
 * inputs (the Node LTS binary, the Debian packages), so that the push from inside finds them.
 */
function buildGateImage(repoRoot: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'image'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run image failed (${code}): ${stderr.slice(-2000)}`)),
    );
  });
}

/**
 * registry-gate's production image, built and pushed as a user would (`npm run image -- --push`), from inside the
 * cluster's network namespace where the mirror lives, with the robot's credentials in a docker config.json.
 */
async function pushGateImage(repoRoot: string, cluster: NodeClusterInfo): Promise<void> {
  const started = Date.now();
  const r = await inNamespace(
    cluster,
    'npm',
    [
      'run',
      '-s',
      'image',
      '--',
      '--push',
      gateImageInMirror(cluster.mirror),
      '--ca-file',
      join(cluster.work, 'pki/ca.crt'),
    ],
    {
      env: { DOCKER_CONFIG: await writeDockerConfig(cluster) },
      timeoutMs: 900_000,
      cwd: repoRoot,
    },
  );
  if (r.code !== 0) throw new Error(`npm run image -- --push failed (${r.code}): ${r.stderr || r.stdout}`);
  process.stderr.write(
    `e2e node: registry-gate image built and pushed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

/**
 * Starts the node cluster for the whole e2e run, or says why it cannot (not root, a missing package): then the node
 * tests skip with that line, unless e2e is required (CI), where it is a failure. A failed build is always a failure.
 */
export async function startNodeForRun(
  repoRoot: string,
  assets: string,
  dir: string,
  required: boolean,
): Promise<{ context: E2ENodeContext; stop: () => Promise<void> }> {
  const missing = await nodePrerequisitesMissing(assets);
  if (missing) {
    if (required)
      throw new Error(
        `e2e tests are required (REGISTRY_GATE_E2E=required) but the node cannot run: ${missing}`,
      );
    process.stderr.write(`e2e: node tests skipped: ${missing}\n`);
    return { context: { skip: missing }, stop: async () => {} };
  }
  const tools = await buildTools(repoRoot);
  const work = join(dir, 'node');
  await mkdir(work, { recursive: true });
  const started = Date.now();
  const imageBuilt = buildGateImage(repoRoot);
  imageBuilt.catch(() => {}); // awaited below; a failure is reported there, not as an unhandled rejection
  const cluster = await startNodeCluster(
    { assets, tools, runc: (await which('runc')) ?? 'runc', cniBin: (await cniBinDir()) ?? '/usr/lib/cni' },
    work,
    repoRoot,
    async (info) => {
      await pushBusyboxImages(info);
      await imageBuilt;
      await pushGateImage(repoRoot, info);
    },
  );
  process.stderr.write(
    `e2e: node cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${work})\n`,
  );
  const { stop, ...node } = cluster;
  return { context: { node }, stop };
}
