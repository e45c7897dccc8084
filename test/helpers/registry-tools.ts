import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RegistryTools {
  /** CNCF distribution `registry` (v3). */
  readonly registry: string;
  /** go-containerregistry's `crane`, to push test images. */
  readonly crane: string;
  /** Apache's `htpasswd`, for the bcrypt file the registry's htpasswd auth reads. */
  readonly htpasswd: string;
}

export type ToolsResult = { readonly tools: RegistryTools } | { readonly skip: string };

const HOW =
  'install Go 1.26+ and apache2-utils (htpasswd), or set REGISTRY_GATE_NODE_TOOLS to a directory with registry ' +
  'and crane (bash test/e2e/node/build-tools.sh | tail -n 1)';

/**
 * The real registry and crane for tests: `$REGISTRY_GATE_NODE_TOOLS` when set, else the e2e node tools built from
 * the Go module proxy by test/e2e/node/build-tools.sh (reused from its cache; the first build takes minutes, and a
 * build already in progress is waited for). Anything missing is a skip with one line saying how to enable it.
 */
export async function resolveRegistryTools(repoRoot: string): Promise<ToolsResult> {
  const htpasswd = await run('sh', ['-c', 'command -v htpasswd']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  if (htpasswd === '') return { skip: `htpasswd not found: ${HOW}` };
  let dir = process.env['REGISTRY_GATE_NODE_TOOLS'] ?? '';
  if (dir === '') {
    const hasGo = await run('go', ['version']).then(
      () => true,
      () => false,
    );
    if (!hasGo) return { skip: `no Go and no REGISTRY_GATE_NODE_TOOLS: ${HOW}` };
    try {
      dir = await buildTools(repoRoot);
    } catch (err) {
      return {
        skip: `building the registry tools failed (${err instanceof Error ? err.message : String(err)}): ${HOW}`,
      };
    }
  }
  const registry = join(dir, 'registry');
  const crane = join(dir, 'crane');
  for (const bin of [registry, crane]) {
    if (
      !(await access(bin).then(
        () => true,
        () => false,
      ))
    )
      return { skip: `${bin} is missing: ${HOW}` };
  }
  return { tools: { registry, crane, htpasswd } };
}

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
      if (code === 0 && dir !== '') resolve(dir);
      else reject(new Error(`build-tools.sh exited ${code}`));
    });
  });
}
