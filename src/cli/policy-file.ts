import { readFile } from 'node:fs/promises';
import { DEFAULT_POLICY_YAML, loadPolicyText, type CompiledPolicy } from '../policy/index.js';

export class UsageError extends Error {}

/** Loads `--policy FILE`, or the built-in default; an unreadable or invalid file is a usage error naming every problem. */
export async function policyFromFile(path: string | undefined): Promise<CompiledPolicy> {
  let text = DEFAULT_POLICY_YAML;
  if (path !== undefined) {
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read policy ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const loaded = loadPolicyText(text);
  if (!loaded.ok)
    throw new UsageError(
      `invalid policy ${path ?? '(built-in)'}:\n${loaded.errors.map((e) => `  ${e}`).join('\n')}`,
    );
  return loaded.policy;
}
