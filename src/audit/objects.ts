import { isRecord } from '../policy/index.js';

/** One Kubernetes object read from somewhere, with where it came from (for people: `app.yaml:12`). */
export interface InputObject {
  readonly object: Record<string, unknown>;
  /** `file:line`, `file items[3]`, `cluster`, or null when nobody can say. */
  readonly source: string | null;
}

export interface InputProblem {
  readonly source: string | null;
  readonly message: string;
}

/** kubectl writes a List of typed items, one level; a few more are generous. */
const MAX_LIST_DEPTH = 8;

/**
 * Flattens one parsed document into objects: `kind: List` and typed lists (`PodList`, `DeploymentList`, …, as
 * `kubectl get -o json|yaml` and the API return them) are expanded, recursively. Items of a typed list from the
 * API carry no `kind`/`apiVersion` of their own; they get the list's (`DeploymentList` in `apps/v1` holds
 * `apps/v1` Deployments). Empty documents (a stray `---`) are nothing; anything else that is not an object is a
 * problem worth reporting.
 */
export function flattenDocument(
  document: unknown,
  source: string | null,
  out: InputObject[],
  problems: InputProblem[],
  depth = 0,
): void {
  if (document === null || document === undefined) return;
  // Input may nest Lists without end (a crafted manifest): stop long before the stack does.
  if (depth > MAX_LIST_DEPTH) {
    problems.push({ source, message: `Lists nested more than ${MAX_LIST_DEPTH} deep` });
    return;
  }
  if (!isRecord(document)) {
    problems.push({
      source,
      message: 'not a Kubernetes object (expected a mapping with apiVersion and kind)',
    });
    return;
  }
  const kind = document['kind'];
  const items = document['items'];
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items)) {
    const itemKind = kind === 'List' ? null : kind.slice(0, -'List'.length);
    const apiVersion = document['apiVersion'];
    for (const [i, item] of items.entries()) {
      const where = `${source ?? '(input)'} items[${i}]`;
      if (itemKind !== null && isRecord(item) && item['kind'] === undefined) {
        flattenDocument({ apiVersion, ...item, kind: itemKind }, where, out, problems, depth + 1);
      } else {
        flattenDocument(item, where, out, problems, depth + 1);
      }
    }
    return;
  }
  out.push({ object: document, source });
}
