import type { RegistryPolicy } from '../policy/index.js';
import type { SecretRef } from './types.js';

/** One Secret the server keeps in every covered namespace: its name there, its source, the registries it is for. */
export interface Propagation {
  readonly secretName: string;
  readonly from: SecretRef;
  /** The `registry` prefixes of every entry that names this Secret and source, in policy order. */
  readonly registries: readonly string[];
}

/**
 * The propagations a policy asks for: one per Secret name among the `pullSecrets` entries with `from` (the policy
 * compiler refuses one name with two sources). Empty when no entry has `from`: the controller then stays idle.
 */
export function propagations(spec: RegistryPolicy): Propagation[] {
  const byName = new Map<string, { from: SecretRef; registries: string[] }>();
  for (const rule of spec.pullSecrets) {
    if (rule.from === null) continue;
    const found = byName.get(rule.secretName);
    if (found) found.registries.push(rule.registry);
    else byName.set(rule.secretName, { from: rule.from, registries: [rule.registry] });
  }
  return [...byName].map(([secretName, p]) => ({ secretName, from: p.from, registries: p.registries }));
}
