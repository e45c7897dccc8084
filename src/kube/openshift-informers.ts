import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  makeInformer,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { loadKubeConfig } from './kube-config.js';

/** The four cluster-scoped kinds the nodes read their image configuration from (RBAC: manifests/overlays/openshift-live). */
export const OPENSHIFT_IMAGE_KINDS = [
  { group: 'config.openshift.io', version: 'v1', plural: 'images' },
  { group: 'operator.openshift.io', version: 'v1alpha1', plural: 'imagecontentsourcepolicies' },
  { group: 'config.openshift.io', version: 'v1', plural: 'imagedigestmirrorsets' },
  { group: 'config.openshift.io', version: 'v1', plural: 'imagetagmirrorsets' },
] as const;

export interface OpenShiftFollower {
  /** True once every kind has been listed once (readiness waits for it). */
  synced(): boolean;
  stop(): Promise<void>;
}

export interface FollowOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** Called with every object of the four kinds: once at the first sync, then after each change (debounced). */
  readonly onSnapshot: (objects: readonly KubernetesObject[]) => void;
  readonly debounceMs?: number;
  readonly retryMs?: number;
}

/** $KUBECONFIG, else ~/.kube/config, else the Pod's service account, as kubectl finds them. */
export function defaultKubeConfig(): KubeConfig {
  return loadKubeConfig(null);
}

/**
 * Follows Image, ICSP, IDMS and ITMS objects with one informer each. A kind the cluster does not serve (an older
 * or newer OpenShift, a plain Kubernetes cluster) lists as empty and is looked for again later, so the gate still
 * becomes ready; any other error restarts that informer after `retryMs`, keeping what it last saw.
 */
export function followOpenShift(options: FollowOptions): OpenShiftFollower {
  const { kubeConfig, logger } = options;
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const listed = new Set<string>();
  const informers: (Informer<KubernetesObject> & ObjectCache<KubernetesObject>)[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const emit = (): void => {
    if (stopped || listed.size < OPENSHIFT_IMAGE_KINDS.length) return;
    clearTimeout(timer);
    timer = setTimeout(
      () => options.onSnapshot(informers.flatMap((i) => i.list())),
      options.debounceMs ?? 100,
    );
  };

  const isMissing = (err: unknown): boolean => err instanceof ApiException && err.code === 404;
  const follow = (kind: (typeof OPENSHIFT_IMAGE_KINDS)[number]): void => {
    const path = `/apis/${kind.group}/${kind.version}/${kind.plural}`;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = (await api.listClusterCustomObject({
        ...kind,
      })) as KubernetesListObject<KubernetesObject>;
      listed.add(kind.plural);
      return result;
    };
    const informer = makeInformer(kubeConfig, path, list);
    informer.on('add', emit);
    informer.on('update', emit);
    informer.on('delete', emit);
    informer.on('error', (err: unknown) => {
      if (stopped) return;
      logger.warn(
        { kind: kind.plural, err: err instanceof Error ? err.message : String(err) },
        'list or watch failed; retrying (the last objects seen stay in force)',
      );
      setTimeout(() => {
        if (!stopped) void informer.start().then(emit);
      }, options.retryMs ?? 2000).unref();
    });
    informers.push(informer);
    void informer.start().then(emit);
  };
  // A kind the cluster does not serve counts as empty (and synced), and is looked for again every 30 s.
  const probe = (kind: (typeof OPENSHIFT_IMAGE_KINDS)[number]): void => {
    api.listClusterCustomObject({ ...kind, limit: 1 }).then(
      () => {
        if (!stopped) follow(kind);
      },
      (err: unknown) => {
        if (stopped) return;
        if (isMissing(err)) {
          if (!listed.has(kind.plural)) {
            logger.info({ kind: kind.plural }, 'kind not served by this cluster; treated as empty');
            listed.add(kind.plural);
            emit();
          }
        } else {
          logger.warn(
            { kind: kind.plural, err: err instanceof Error ? err.message : String(err) },
            'cannot list; retrying',
          );
        }
        setTimeout(() => probe(kind), isMissing(err) ? 30_000 : (options.retryMs ?? 2000)).unref();
      },
    );
  };
  for (const kind of OPENSHIFT_IMAGE_KINDS) probe(kind);

  return {
    synced: () => listed.size === OPENSHIFT_IMAGE_KINDS.length,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
