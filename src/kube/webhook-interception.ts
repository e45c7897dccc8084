import { defaultInterception, interceptionOf, type Interception } from '../audit/index.js';
import { isRecord } from '../policy/index.js';
import type { KubeReader } from './api-client.js';
import { KubeApiError } from './api-error.js';

export interface InterceptionQuery {
  /** The ValidatingWebhookConfiguration the gate is registered with. */
  readonly configuration: string;
  /** The gate's namespace, for the default rules when nothing is registered. */
  readonly gateNamespace: string;
  /** Only this namespace is audited: read its labels alone. */
  readonly namespace?: string | undefined;
}

export interface ReadInterception {
  readonly interception: Interception;
  /** Set when something could not be read and a fallback was used: one line for stderr. */
  readonly note: string | null;
}

/**
 * The namespaces the webhooks judge in this cluster, read as the apiserver applies them: the registered
 * ValidatingWebhookConfiguration's namespaceSelectors over the namespaces' labels (GET only). Not registered
 * yet (404: an audit before the rollout) means the rules manifests/base would register; a configuration or
 * namespaces that RBAC hides give the same fallback, said in `note`.
 */
export async function readInterception(api: KubeReader, query: InterceptionQuery): Promise<ReadInterception> {
  const fallback = defaultInterception(query.gateNamespace);
  const readable = (err: unknown): err is KubeApiError => err instanceof KubeApiError && err.status !== null;
  let configuration: unknown;
  try {
    configuration = await api.get(
      `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${encodeURIComponent(query.configuration)}`,
    );
  } catch (err) {
    if (!readable(err)) throw err;
    if (err.status === 404) return { interception: fallback, note: null };
    return {
      interception: fallback,
      note: `cannot read ValidatingWebhookConfiguration/${query.configuration} (${err.message}); judging by ${fallback.by}`,
    };
  }
  const labels = new Map<string, Readonly<Record<string, string>>>();
  let note: string | null = null;
  try {
    const path =
      query.namespace === undefined
        ? '/api/v1/namespaces'
        : `/api/v1/namespaces/${encodeURIComponent(query.namespace)}`;
    const answer = await api.get(path);
    const items = isRecord(answer) && Array.isArray(answer['items']) ? answer['items'] : [answer];
    for (const item of items) {
      const metadata = isRecord(item) && isRecord(item['metadata']) ? item['metadata'] : {};
      if (typeof metadata['name'] !== 'string') continue;
      const found = isRecord(metadata['labels']) ? metadata['labels'] : {};
      labels.set(
        metadata['name'],
        Object.fromEntries(
          Object.entries(found).filter((e): e is [string, string] => typeof e[1] === 'string'),
        ),
      );
    }
  } catch (err) {
    if (!readable(err)) throw err;
    note = `cannot read namespaces (${err.message}); judging them by their names alone`;
  }
  return { interception: interceptionOf(configuration, (ns) => labels.get(ns) ?? {}), note };
}
