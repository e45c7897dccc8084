import { isRecord } from '../policy/index.js';

/**
 * Which namespaces the webhooks judge. A finding in a namespace that no webhook entry selects (the gate's own,
 * `kube-system`, whatever a custom configuration leaves out) would never be denied or rewritten: the audit
 * reports it apart instead of failing on it.
 */
export interface Interception {
  /** Where the rules come from, for the report: `ValidatingWebhookConfiguration/registry-gate`, or the default. */
  readonly by: string;
  intercepts(namespace: string): boolean;
}

/** The label every namespace carries with its own name (Kubernetes 1.21+), which the manifests select on. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * The rules manifests/base registers: every namespace but the gate's own and `kube-system` (their
 * namespaceSelectors; the failure tiers and modes only route the rest). Used for manifests, and for a cluster
 * where the gate is not registered yet, as before a rollout.
 */
export function defaultInterception(gateNamespace: string): Interception {
  const excluded = new Set([gateNamespace, 'kube-system']);
  return {
    by: `the namespaces manifests/base selects (all but ${gateNamespace} and kube-system)`,
    intercepts: (namespace) => !excluded.has(namespace),
  };
}

/** Labels of a namespace by name; the name label is added when the namespace is not known. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>>;

/**
 * The rules of a registered ValidatingWebhookConfiguration: a namespace is intercepted when the
 * `namespaceSelector` of any of its webhooks selects the namespace's labels (an absent selector selects every
 * namespace). The entries' `rules` are taken to cover every pod-bearing kind, as manifests/base writes them.
 */
export function interceptionOf(configuration: unknown, labelsOf: NamespaceLabels): Interception {
  const name =
    isRecord(configuration) && isRecord(configuration['metadata']) ? configuration['metadata']['name'] : '';
  const webhooks =
    isRecord(configuration) && Array.isArray(configuration['webhooks']) ? configuration['webhooks'] : [];
  const selectors = webhooks.map((w: unknown) => (isRecord(w) ? w['namespaceSelector'] : undefined));
  return {
    by: `ValidatingWebhookConfiguration/${String(name)}`,
    intercepts: (namespace) => {
      const labels = { [NAMESPACE_NAME_LABEL]: namespace, ...labelsOf(namespace) };
      return selectors.some((selector) => selects(selector, labels));
    },
  };
}

/**
 * metav1.LabelSelector semantics: `matchLabels` and every `matchExpressions` entry must hold; an empty or absent
 * selector selects everything; an operator other than the four the API server accepts selects nothing.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements
 */
export function selects(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined || selector === null) return true;
  if (!isRecord(selector)) return false;
  const matchLabels = isRecord(selector['matchLabels']) ? selector['matchLabels'] : {};
  for (const [key, value] of Object.entries(matchLabels)) if (labels[key] !== value) return false;
  const expressions = Array.isArray(selector['matchExpressions']) ? selector['matchExpressions'] : [];
  return expressions.every((e: unknown) => isRecord(e) && holds(e, labels));
}

function holds(expression: Record<string, unknown>, labels: Readonly<Record<string, string>>): boolean {
  const key = typeof expression['key'] === 'string' ? expression['key'] : '';
  const values = Array.isArray(expression['values']) ? expression['values'].map(String) : [];
  const value = Object.hasOwn(labels, key) ? labels[key] : undefined;
  switch (expression['operator']) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    default:
      return false;
  }
}
