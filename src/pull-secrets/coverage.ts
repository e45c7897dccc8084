import { NAMESPACE_OPT_OUT_LABEL, NAMESPACE_OPT_OUT_VALUE } from './labels.js';
import type { NamespaceSnapshot } from './types.js';

/** Which namespaces get copies: the namespaces the gate's webhooks cover, less those that opted out. */
export interface Coverage {
  /** The gate's own namespace: its webhooks never intercept it, and the source Secrets live there. */
  readonly gateNamespace: string;
  /** The policy's `exemptions.namespaces`: the gate leaves their Pods alone, so it injects no secret there. */
  readonly exemptNamespaces: readonly string[];
}

/** Never covered, whatever the policy says: the webhook configurations exclude them too (manifests/base). */
export const ALWAYS_EXCLUDED = ['kube-system'] as const;

export type CoverageVerdict =
  | { readonly covered: true }
  | { readonly covered: false; readonly why: 'gate namespace' | 'kube-system' | 'exempt' | 'opted out' };

/**
 * Whether a namespace should hold copies. Only Pods the gate admits get `imagePullSecrets` injected, so only the
 * namespaces it covers need the Secret; a namespace labelled `registry-gate.io/pull-secrets: disabled` opts out
 * (a tenant that brings its own credentials, or one that must not hold the mirror's).
 */
export function coverageOf(ns: NamespaceSnapshot, coverage: Coverage): CoverageVerdict {
  if (ns.name === coverage.gateNamespace) return { covered: false, why: 'gate namespace' };
  if ((ALWAYS_EXCLUDED as readonly string[]).includes(ns.name)) return { covered: false, why: 'kube-system' };
  if (coverage.exemptNamespaces.includes(ns.name)) return { covered: false, why: 'exempt' };
  if (ns.labels[NAMESPACE_OPT_OUT_LABEL] === NAMESPACE_OPT_OUT_VALUE)
    return { covered: false, why: 'opted out' };
  return { covered: true };
}
