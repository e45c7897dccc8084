/**
 * Where each kind keeps its pod spec: adding a kind is one row (as kyverno's image extractors do). The
 * group/kind key is what the apiserver sends in `request.kind` (matchPolicy: Equivalent converts other versions).
 */
const podSpecPaths: ReadonlyMap<string, readonly string[]> = new Map([
  ['/Pod', ['spec']],
  ['/PodTemplate', ['template', 'spec']],
  ['/ReplicationController', ['spec', 'template', 'spec']],
  ['apps/Deployment', ['spec', 'template', 'spec']],
  ['apps/ReplicaSet', ['spec', 'template', 'spec']],
  ['apps/StatefulSet', ['spec', 'template', 'spec']],
  ['apps/DaemonSet', ['spec', 'template', 'spec']],
  ['batch/Job', ['spec', 'template', 'spec']],
  ['batch/CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
]);

export interface PodSpecLocation {
  /** Path from the object root to the pod spec. */
  readonly specPath: readonly string[];
  /** Path to the metadata that goes with that spec (the Pod's, or the template's). */
  readonly metadataPath: readonly string[];
  /** A template: its Pods, not itself, pull the images. */
  readonly isTemplate: boolean;
}

export function podSpecLocation(group: string, kind: string): PodSpecLocation | null {
  const specPath = podSpecPaths.get(`${group}/${kind}`);
  if (specPath === undefined) return null;
  return {
    specPath,
    metadataPath: [...specPath.slice(0, -1), 'metadata'],
    isTemplate: !(group === '' && kind === 'Pod'),
  };
}

/** Kinds that carry a pod spec, `group/Kind` (core group empty): for docs, audit and the webhook rules. */
export const POD_BEARING_KINDS: readonly string[] = [...podSpecPaths.keys()];
