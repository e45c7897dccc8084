import { YAMLError, parse } from 'yaml';
import { isRecord, yamlErrorText } from '../policy/index.js';
import { importOpenShift } from './openshift.js';
import { policyDocument, policyText } from './policy-document.js';

export type LiveMerge =
  | {
      readonly ok: true;
      readonly text: string;
      /** Objects and entries left out because admission cannot apply them, one line each (logged, counted). */
      readonly dropped: readonly string[];
    }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The label cluster objects carry in origins: `ImageDigestMirrorSet/release (cluster)`. */
export const CLUSTER_ORIGIN = 'cluster';

/**
 * The effective policy of `spec.sources.openshift: true`: the policy file (`baseText`) extended by what the
 * cluster's Image/cluster, ICSPs, IDMSes and ITMSes say, mapped exactly as `policy import` maps them. Pure, so the
 * server's informers only collect objects and hand them here; the result goes through the same PolicyStore as a
 * file reload (validation, last good policy, metrics). Objects are sorted by kind and name first, so the same
 * cluster state always gives the same text (and an unchanged text is no reload). An entry the CRDs accept but
 * admission cannot apply (a wildcard mirror source) is left out and listed in `dropped`, and the rest applies;
 * an object of the wrong shape (which the CRDs' schemas refuse) is an error, and the last good policy stays.
 */
export function mergeClusterSources(baseText: string, objects: readonly unknown[]): LiveMerge {
  let base: unknown;
  try {
    base = parse(baseText);
  } catch (err) {
    const reason =
      err instanceof YAMLError ? yamlErrorText(err) : err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [`policy file: ${reason}`] };
  }
  if (!isRecord(base)) return { ok: false, errors: ['policy file: must be a RegistryPolicy map'] };
  const sorted = [...objects].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  const imported = importOpenShift(sorted.map((doc) => ({ doc, file: CLUSTER_ORIGIN })));
  if (!imported.ok) return { ok: false, errors: imported.errors };
  return {
    ok: true,
    text: policyText(policyDocument(imported.rules, { base })),
    dropped: imported.rules.dropped,
  };
}

function sortKey(object: unknown): string {
  if (!isRecord(object)) return '';
  const name = isRecord(object.metadata) ? String(object.metadata.name) : '';
  return `${String(object.kind)}/${name}`;
}
