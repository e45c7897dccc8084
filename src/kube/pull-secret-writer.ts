import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type V1Secret } from '@kubernetes/client-node';
import { COPY_OF_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../pull-secrets/labels.js';
import type { CopyAction, DesiredCopy } from '../pull-secrets/reconcile.js';
import { statusOf } from './api-error.js';

export const FIELD_MANAGER = 'registry-gate';

export type WriteResult = 'created' | 'updated' | 'deleted' | 'conflict' | 'gone';

/**
 * Carries out one reconcile action against the API. Copies are written with server-side apply (field manager
 * `registry-gate`, forced: the gate owns the fields it sets, and a hand edit of them is drift to repair). Before a
 * create it reads the name: server-side apply would adopt a Secret someone else made under that name, so a
 * Secret without the copy labels is reported as a conflict and never touched. Deletes carry the uid the informer
 * saw as a precondition, so a Secret re-created meanwhile under the same name is not deleted by mistake.
 */
export class PullSecretWriter {
  constructor(
    private readonly core: CoreV1Api,
    private readonly objects: KubernetesObjectApi,
  ) {}

  async carryOut(
    action: CopyAction,
    uidOf: (namespace: string, name: string) => string | undefined,
  ): Promise<WriteResult> {
    if (action.kind === 'delete') {
      const { namespace, name } = action.ref;
      const uid = uidOf(namespace, name);
      try {
        await this.core.deleteNamespacedSecret({
          namespace,
          name,
          body: uid === undefined ? {} : { preconditions: { uid } },
        });
        return 'deleted';
      } catch (err) {
        if (statusOf(err) === 404) return 'gone';
        throw err;
      }
    }
    if (action.kind === 'create') {
      const existing = await this.readOrNull(action.copy);
      if (existing !== null && !isCopy(existing)) return 'conflict';
    }
    await this.objects.patch(
      toSecret(action.copy),
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
    return action.kind === 'create' ? 'created' : 'updated';
  }

  private async readOrNull(copy: DesiredCopy): Promise<V1Secret | null> {
    try {
      return await this.core.readNamespacedSecret({ namespace: copy.namespace, name: copy.name });
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }
}

function isCopy(secret: V1Secret): boolean {
  const labels = secret.metadata?.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && labels[COPY_OF_LABEL] !== undefined;
}

/** The apply configuration: exactly the fields the gate owns on a copy. */
function toSecret(copy: DesiredCopy): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      namespace: copy.namespace,
      name: copy.name,
      labels: { ...copy.labels },
      annotations: { ...copy.annotations },
    },
    type: copy.type,
    data: { ...copy.data },
  };
}
