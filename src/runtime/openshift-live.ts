import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PolicyStore, ReloadResult } from './policy-store.js';
import { defaultKubeConfig, followOpenShift, type FollowOptions } from '../kube/openshift-informers.js';
import { mergeClusterSources } from '../policy-import/live.js';

export interface OpenShiftLive {
  /** The policy file changed: merge it with what the cluster says now. */
  offerBase(text: string): void;
  /** Readiness: the first list of every kind is done and merged. */
  ready(): boolean;
  stop(): Promise<void>;
}

export interface OpenShiftLiveOptions {
  readonly store: PolicyStore;
  readonly baseText: string;
  readonly origin: string;
  readonly logger: Logger;
  /** Logs and counts a reload result exactly as a file reload is (webhook.ts noteReload). */
  readonly report: (result: ReloadResult, origin: string) => void;
  /** Counts the cluster entries left out of the merge (registry_gate_openshift_dropped_entries). */
  readonly droppedGauge?: { set(value: number): void };
  readonly follow?: (options: FollowOptions) => ReturnType<typeof followOpenShift>;
}

/**
 * `spec.sources.openshift: true`: the effective policy is the policy file merged with the cluster's image
 * configuration, recomputed on every change of either, and offered to the same PolicyStore as a file reload, so
 * an invalid result is rejected, logged and counted while the last good policy stays.
 */
export function startOpenShiftLive(options: OpenShiftLiveOptions): OpenShiftLive {
  const { store, logger } = options;
  const origin = `${options.origin} + cluster image configuration`;
  let baseText = options.baseText;
  let objects: readonly KubernetesObject[] | null = null;
  let lastDropped = '';

  const apply = (): void => {
    if (objects === null) return;
    const merged = mergeClusterSources(baseText, objects);
    if (!merged.ok) {
      options.report({ result: 'rejected', errors: merged.errors, active: store.active }, origin);
      return;
    }
    // Said once per change of what is left out, not on every resync.
    const left = merged.dropped.join('\n');
    if (left !== lastDropped && merged.dropped.length > 0)
      logger.warn(
        { dropped: merged.dropped },
        'cluster image configuration entries left out; the rest applies',
      );
    lastDropped = left;
    options.droppedGauge?.set(merged.dropped.length);
    options.report(store.offer(merged.text, origin), origin);
  };

  const follower = (options.follow ?? followOpenShift)({
    kubeConfig: defaultKubeConfig(),
    logger,
    onSnapshot: (next) => {
      const first = objects === null;
      objects = next;
      if (first) logger.info({ objects: next.length }, 'OpenShift image configuration synced');
      apply();
    },
  });

  return {
    offerBase(text) {
      baseText = text;
      if (objects === null) options.report(store.offer(text, options.origin), options.origin);
      else apply();
    },
    ready: () => objects !== null && follower.synced(),
    stop: () => follower.stop(),
  };
}
