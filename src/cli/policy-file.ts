import { readFile } from 'node:fs/promises';
import { DEFAULT_POLICY_YAML, loadPolicyText, type CompiledPolicy } from '../policy/index.js';
import { readPolicyOrigins } from '../policy-import/policy-origins.js';
import { UsageError, reasonOf } from './errors.js';

/** Loads `--policy FILE`, or the built-in default; an unreadable or invalid file is a usage error naming every problem. */
export async function policyFromFile(path: string | undefined): Promise<CompiledPolicy> {
  let text = DEFAULT_POLICY_YAML;
  if (path !== undefined) {
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read policy ${path}: ${reasonOf(err)}`, 'FILE_UNREADABLE', { cause: err });
    }
  }
  const loaded = loadPolicyText(text);
  if (!loaded.ok)
    throw new UsageError(
      `invalid policy ${path ?? '(built-in)'}:\n${loaded.errors.map((e) => `  ${e}`).join('\n')}`,
      'POLICY_INVALID',
    );
  return loaded.policy;
}

/** The `# origin:` comments of `--policy FILE`, for explain; none for the built-in policy or an unreadable file. */
export async function originsFromFile(
  path: string | undefined,
): Promise<ReadonlyMap<string, readonly string[]>> {
  if (path === undefined) return new Map();
  try {
    return readPolicyOrigins(await readFile(path, 'utf8'));
  } catch {
    return new Map(); // policyFromFile has already read it; a race with a deletion only loses the comments
  }
}
