import type { SecretRef } from '../policy/types.js';

/**
 * The facts the pull-secret reconciler works on, as plain data: the Kubernetes adapter (src/kube/) reduces the
 * informers' objects to these shapes, so the decisions below can be tested without a cluster.
 */
export type { SecretRef };

export interface SecretSnapshot extends SecretRef {
  readonly type: string;
  /** Base64 values, as the API returns them. */
  readonly data: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface NamespaceSnapshot {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** A namespace being deleted accepts no new objects: creating a copy there can only fail. */
  readonly terminating: boolean;
}

export const refKey = (ref: SecretRef): string => `${ref.namespace}/${ref.name}`;
