import { isRecord, loadPolicyText, type CompiledPolicy } from '../policy/index.js';
import type { KubeReader } from './api-client.js';
import { KubeApiError } from './api-error.js';

export interface PolicyConfigMap {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

/** The policy the webhook enforces, read from its ConfigMap, so an audit judges with exactly that. */
export async function policyFromConfigMap(api: KubeReader, where: PolicyConfigMap): Promise<CompiledPolicy> {
  const path = `/api/v1/namespaces/${encodeURIComponent(where.namespace)}/configmaps/${encodeURIComponent(where.name)}`;
  const configMap = await api.get(path);
  const data = isRecord(configMap) ? configMap['data'] : undefined;
  const text = isRecord(data) ? data[where.key] : undefined;
  const label = `ConfigMap ${where.namespace}/${where.name}`;
  if (typeof text !== 'string')
    throw new KubeApiError(`${label} has no data key "${where.key}"`, null, { code: 'CLUSTER_CONTENT' });
  const loaded = loadPolicyText(text);
  if (!loaded.ok)
    throw new KubeApiError(
      `invalid policy in ${label} key ${where.key}:\n${loaded.errors.map((e) => `  ${e}`).join('\n')}`,
      null,
      { code: 'CLUSTER_CONTENT' },
    );
  return loaded.policy;
}
