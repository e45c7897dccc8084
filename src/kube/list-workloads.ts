import { flattenDocument, type InputProblem, type InputObject } from '../audit/index.js';
import { isRecord } from '../policy/index.js';
import type { KubeReader } from './api-client.js';
import { KubeApiError } from './api-error.js';
import { collectionPath, POD_BEARING_RESOURCES, type ResourcePath } from './pod-bearing-resources.js';

export interface ListProgress {
  readonly resource: ResourcePath;
  /** 0-based position of the resource in POD_BEARING_RESOURCES. */
  readonly index: number;
  readonly total: number;
  /** Objects of this resource so far, and of all resources so far. */
  readonly listed: number;
  readonly listedAll: number;
  readonly pages: number;
  readonly done: boolean;
}

export interface ListOptions {
  readonly namespace?: string | undefined;
  /** Objects per request (`limit`); kubectl's default is 500. */
  readonly chunkSize: number;
  readonly onProgress?: (progress: ListProgress) => void;
}

/**
 * Every Pod and pod template of the cluster (or of one namespace), read page by page with `limit` and
 * `continue` (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks)
 * so that neither the apiserver nor we hold one huge response. Only GET: the audit changes nothing.
 */
export async function listWorkloads(api: KubeReader, options: ListOptions): Promise<InputObject[]> {
  const objects: InputObject[] = [];
  const problems: InputProblem[] = [];
  for (const [index, resource] of POD_BEARING_RESOURCES.entries()) {
    const path = collectionPath(resource, options.namespace);
    const apiVersion = resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
    let token: string | undefined;
    let listed = 0;
    let pages = 0;
    do {
      const query = new URLSearchParams({ limit: String(options.chunkSize) });
      if (token !== undefined) query.set('continue', token);
      let page: unknown;
      try {
        page = await api.get(`${path}?${query.toString()}`);
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 410)
          throw new KubeApiError(
            `${err.message} (listing ${resource.resource} took longer than the apiserver keeps a list consistent; run again, or raise --chunk-size)`,
            410,
            { cause: err, code: err.code },
          );
        throw err;
      }
      const before = objects.length;
      // Items of a typed list carry no kind: flattenDocument gives them the list's.
      flattenDocument(
        { ...asRecord(page), apiVersion, kind: `${resource.kind}List` },
        null,
        objects,
        problems,
      );
      listed += objects.length - before;
      pages++;
      token = continueToken(page);
      options.onProgress?.({
        resource,
        index,
        total: POD_BEARING_RESOURCES.length,
        listed,
        listedAll: objects.length,
        pages,
        done: token === undefined,
      });
    } while (token !== undefined);
  }
  return objects;
}

const asRecord = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});

function continueToken(page: unknown): string | undefined {
  const metadata = asRecord(page)['metadata'];
  const token = asRecord(metadata)['continue'];
  return typeof token === 'string' && token !== '' ? token : undefined;
}
