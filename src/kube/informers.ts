import {
  makeInformer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type V1Namespace,
  type V1Secret,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { NamespaceSnapshot, SecretSnapshot } from '../pull-secrets/types.js';

/** An informer that lists, watches, and starts again after an error (client-node's informer stops on one). */
export interface Watched<T extends KubernetesObject> {
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** Resolves once the first list has been received. */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export function watch<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: ListPromise<T>,
  options: { labelSelector?: string; onEvent: () => void; logger: Logger; restartDelayMs?: number },
): Watched<T> {
  const informer = makeInformer<T>(kc, path, list, options.labelSelector);
  let stopped = false;
  let errors = 0;
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  // client-node's start() resolves even when its list failed (it reports through 'error'): synced is a start
  // with no error in between.
  const start = (): void => {
    const before = errors;
    informer.start().then(
      () => {
        if (errors === before) markSynced();
      },
      () => undefined,
    );
  };
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, () => options.onEvent());
  informer.on('error', (err: unknown) => {
    errors++;
    if (stopped) return;
    options.logger.warn(
      { path, error: err instanceof Error ? err.message.split('\n')[0] : String(err) },
      'watch failed; starting again',
    );
    setTimeout(() => {
      if (!stopped) start();
    }, options.restartDelayMs ?? 2_000).unref();
  });
  start();
  return {
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    synced,
    async stop() {
      stopped = true;
      await informer.stop();
    },
  };
}

export function namespaceSnapshot(ns: V1Namespace): NamespaceSnapshot {
  return {
    name: ns.metadata?.name ?? '',
    labels: ns.metadata?.labels ?? {},
    terminating: ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp !== undefined,
  };
}

export function secretSnapshot(s: V1Secret): SecretSnapshot {
  return {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    type: s.type ?? 'Opaque',
    data: s.data ?? {},
    labels: s.metadata?.labels ?? {},
    annotations: s.metadata?.annotations ?? {},
  };
}
