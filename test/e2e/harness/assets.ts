import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REQUIRED_BINARIES = ['kube-apiserver', 'etcd', 'kubectl', 'kube-controller-manager'] as const;

export const HOW_TO_ENABLE =
  'install Go 1.26+ (the control plane is built from source, about 12 minutes once, then cached) or ' +
  'export KUBEBUILDER_ASSETS=<dir with kube-apiserver, etcd, kubectl, kube-controller-manager>; see docs/development.md';

export type Assets = { readonly dir: string; readonly how: string } | { readonly skip: string };

async function missingIn(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const bin of REQUIRED_BINARIES) {
    await access(join(dir, bin)).catch(() => missing.push(bin));
  }
  return missing;
}

/**
 * Where the control plane comes from: KUBEBUILDER_ASSETS when set (for instance `setup-envtest use` plus a
 * controller-manager), otherwise the project's own build from source, reused from its cache when it is current.
 */
export async function resolveAssets(repoRoot: string, env: NodeJS.ProcessEnv): Promise<Assets> {
  const given = env.KUBEBUILDER_ASSETS;
  if (given) {
    const missing = await missingIn(given);
    if (missing.length === 0) return { dir: given, how: `KUBEBUILDER_ASSETS=${given}` };
    return {
      skip:
        `KUBEBUILDER_ASSETS=${given} lacks ${missing.join(', ')}` +
        (missing.includes('kube-controller-manager')
          ? ' (add it: bash test/e2e/controlplane/build.sh --only kube-controller-manager --into "$KUBEBUILDER_ASSETS")'
          : ''),
    };
  }
  const hasGo = await run('go', ['version']).then(
    () => true,
    () => false,
  );
  if (!hasGo) return { skip: `no KUBEBUILDER_ASSETS and no Go: ${HOW_TO_ENABLE}` };
  const started = Date.now();
  process.stderr.write('e2e: building or reusing the control plane (test/e2e/controlplane/build.sh)…\n');
  try {
    const dir = await buildControlPlane(repoRoot);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    return { dir, how: `built from source or reused from the cache in ${seconds} s: ${dir}` };
  } catch (err) {
    // Go is here, so the suite can run: a build that fails or is stopped is a failure of its own, not a skip
    // that tells the user to install what they have.
    const why = err instanceof Error ? err.message.split('\n').slice(-3).join(' ') : String(err);
    throw new Error(
      `e2e: building the control plane failed or was stopped (${why}); its output is above. ` +
        'Run bash test/e2e/controlplane/build.sh to build it alone, or set REGISTRY_GATE_E2E=off to skip e2e.',
      { cause: err },
    );
  }
}

/** Runs build.sh with its progress on our stderr (a cold build takes minutes); its last stdout line is the dir. */
function buildControlPlane(repoRoot: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'test/e2e/controlplane/build.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`build.sh exited ${code}`));
    });
  });
}
