import { runCli } from '../../src/cli/program.js';

/** Runs the CLI in this process, as `registry-gate ARGS…` would, and returns its exit code and output. */
export async function cli(
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => Promise.resolve(stdin),
  });
  return { code, stdout, stderr };
}
