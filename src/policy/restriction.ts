import type { RegistryPolicy } from './types.js';

/**
 * Why a policy restricts no registry, or null when it restricts some. A policy with no `spec` (or `spec: {}`, or
 * an empty block list) is valid and allows every image: right for a first rewrite-only rollout, wrong for a gate
 * whose job is to restrict, so `policy check`, the server's log and a metric say it, and `serve
 * --require-restriction` refuses it. Mirrors alone restrict nothing: the validator still allows the original.
 */
export function unrestrictedReason(spec: RegistryPolicy): string | null {
  const { allowedRegistries, blockedRegistries } = spec.registrySources;
  if (allowedRegistries !== null) return null;
  if (blockedRegistries !== null && blockedRegistries.length > 0) return null;
  return 'the policy restricts nothing: it sets neither allowedRegistries nor a blockedRegistries entry, so every registry is allowed';
}
