import type { ObjectIdentity, OwnerReference } from './identity.js';

/** What a finding is reported under: an object nobody controls, or a controller we only know by reference. */
export interface Workload {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | null;
  /** Groups the objects of one workload: the top owner's uid, or a per-object key when there is none. */
  readonly key: string;
}

export interface Owned {
  readonly identity: ObjectIdentity;
  readonly controller: OwnerReference | null;
}

/**
 * The top owner of every object, following controller references through the objects at hand: a Pod of a
 * ReplicaSet of a Deployment is reported under the Deployment, a Pod of a Job of a CronJob under the CronJob,
 * so 500 replicas make one entry, not 500. When the chain leaves the objects at hand (an owner of a kind that is
 * not pod-bearing, such as an operator's custom resource, or one outside `--namespace`), that reference is the
 * top. Owners live in their dependent's namespace (cross-namespace owner references are not allowed), which is
 * why a uid alone identifies them here. A cycle (never written by a real controller) stops where it closes.
 */
export function topOwners(objects: readonly Owned[]): Workload[] {
  const byUid = new Map<string, number>();
  objects.forEach((o, i) => {
    if (o.identity.uid !== null) byUid.set(o.identity.uid, i);
  });
  const memo = new Map<number, Workload>();

  const resolve = (start: number): Workload => {
    const chain: number[] = [];
    const seen = new Set<number>();
    let current = start;
    let top: Workload | undefined;
    for (;;) {
      const known = memo.get(current);
      if (known !== undefined) {
        top = known;
        break;
      }
      chain.push(current);
      seen.add(current);
      const here = objects[current];
      if (here === undefined) throw new Error(`object ${current} out of range`); // unreachable: indices are ours
      const owner = here.controller;
      const next = owner === null ? undefined : byUid.get(owner.uid);
      if (owner !== null && next === undefined) {
        top = { ...owner, namespace: here.identity.namespace, key: owner.uid };
        break;
      }
      if (next === undefined || seen.has(next)) {
        const { group, kind, name, namespace, uid } = here.identity;
        top = { group, kind, name, namespace, key: uid ?? `#${current}` };
        break;
      }
      current = next;
    }
    for (const i of chain) memo.set(i, top);
    return top;
  };
  return objects.map((_, i) => resolve(i));
}
