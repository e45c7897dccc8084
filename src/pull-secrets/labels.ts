import { createHash } from 'node:crypto';
import type { SecretRef } from './types.js';

/** Every object the gate writes carries the standard managed-by label (kubernetes.io recommended labels). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'registry-gate';
/**
 * Names the source of a copy. It is also what tells a pull-secret copy apart from other objects the gate may
 * manage (its TLS Secret): only objects with both labels are ever deleted by the reconciler.
 */
export const COPY_OF_LABEL = 'registry-gate.io/copy-of';
/** The full `namespace/name` of the source: a label value is limited to 63 characters, an annotation is not. */
export const SOURCE_ANNOTATION = 'registry-gate.io/source';
/** A namespace with this label set to `disabled` gets no copies (the gate's own namespace and kube-system never do). */
export const NAMESPACE_OPT_OUT_LABEL = 'registry-gate.io/pull-secrets';
export const NAMESPACE_OPT_OUT_VALUE = 'disabled';

/** The informer's selector for copies: both labels, so nothing else the gate labels is ever seen as a copy. */
export const COPY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${COPY_OF_LABEL}`;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * `namespace.name` when that is a valid label value (at most 63 characters); otherwise a readable prefix and a
 * hash of the full name, so two long source names never share a value.
 */
export function copyOfValue(source: SecretRef): string {
  const plain = `${source.namespace}.${source.name}`;
  if (plain.length <= 63 && LABEL_VALUE.test(plain)) return plain;
  const hash = createHash('sha256').update(`${source.namespace}/${source.name}`).digest('hex').slice(0, 16);
  return `${plain.slice(0, 46).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`;
}
