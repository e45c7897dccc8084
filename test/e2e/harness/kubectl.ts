import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

export type Kubectl = (args: readonly string[], options?: KubectlOptions) => Promise<Run>;

/**
 * kubectl from the asset directory, always with the test cluster's kubeconfig, as a user runs it. `prefix` runs it
 * through another command first (the node cluster's `nsenter --net=…`).
 */
export function kubectlFor(assets: string, kubeconfig: string, prefix: readonly string[] = []): Kubectl {
  return (args, options = {}) =>
    new Promise((resolve, reject) => {
      const argv = [...prefix, join(assets, 'kubectl'), `--kubeconfig=${kubeconfig}`, ...args];
      const child = spawn(argv[0] ?? '', argv.slice(1), {
        env: { ...process.env, KUBECONFIG: kubeconfig, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 0), stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
}

/** Throws with kubectl's own words when it fails; returns stdout. */
export async function ok(run: Promise<Run>): Promise<string> {
  const result = await run;
  if (result.code !== 0) throw new Error(`kubectl exited ${result.code}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/**
 * kubectl's built-in kustomize notes, as an informational log line, that a kustomization's own order
 * (`sortOptions: fifo`, which manifests/ uses: webhook configurations first) wins over its default. That line is
 * expected; this returns stderr without it.
 */
export function stderrBesidesSortNote(stderr: string): string {
  return stderr
    .split('\n')
    .filter(
      (l) => l !== '' && !/^I\d{4} .* Warning: Sorting order is set both in 'kustomization.yaml'/.test(l),
    )
    .join('\n');
}
