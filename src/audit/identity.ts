import { isRecord } from '../policy/index.js';

/** Who an object is: enough to name it in a report and to find it from another object's ownerReferences. */
export interface ObjectIdentity {
  /** API group, `''` for the core group (from `apiVersion`). */
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | null;
  readonly uid: string | null;
}

export interface OwnerReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** `apps/v1` → `apps`; `v1` → `''` (the core group has no name). */
export function groupOf(apiVersion: unknown): string {
  if (typeof apiVersion !== 'string') return '';
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

export function identityOf(object: Record<string, unknown>): ObjectIdentity {
  const metadata = isRecord(object['metadata']) ? object['metadata'] : {};
  const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  return {
    group: groupOf(object['apiVersion']),
    kind: text(object['kind']) ?? '',
    name: text(metadata['name']) ?? text(metadata['generateName']) ?? '(unnamed)',
    namespace: text(metadata['namespace']),
    uid: text(metadata['uid']),
  };
}

/**
 * The owner that manages this object: the ownerReference with `controller: true` (there is at most one,
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/), else none. Other
 * ownerReferences (garbage-collection only) do not make an object part of another's workload.
 */
export function controllerOf(object: Record<string, unknown>): OwnerReference | null {
  const metadata = object['metadata'];
  if (!isRecord(metadata) || !Array.isArray(metadata['ownerReferences'])) return null;
  for (const ref of metadata['ownerReferences'] as unknown[]) {
    if (!isRecord(ref) || ref['controller'] !== true) continue;
    const { kind, name, uid } = ref;
    if (typeof kind !== 'string' || typeof name !== 'string' || typeof uid !== 'string') continue;
    return { group: groupOf(ref['apiVersion']), kind, name, uid };
  }
  return null;
}
