/**
 * The REST side of the admission layer's kind → pod-spec table: where the API serves each pod-bearing kind. The
 * table test checks that it covers every kind of `POD_BEARING_KINDS` and no other.
 */
export interface ResourcePath {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural resource name of the URL (and of RBAC rules). */
  readonly resource: string;
}

export const POD_BEARING_RESOURCES: readonly ResourcePath[] = [
  { group: '', version: 'v1', kind: 'Pod', resource: 'pods' },
  { group: '', version: 'v1', kind: 'PodTemplate', resource: 'podtemplates' },
  { group: '', version: 'v1', kind: 'ReplicationController', resource: 'replicationcontrollers' },
  { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments' },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets' },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', resource: 'statefulsets' },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets' },
  { group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs' },
  { group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs' },
];

/** `/api/v1/pods`, `/apis/apps/v1/namespaces/shop/deployments`. */
export function collectionPath(r: ResourcePath, namespace: string | undefined): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${scope}/${r.resource}`;
}
