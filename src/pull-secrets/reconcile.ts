import {
  checkSource,
  DOCKER_CONFIG_JSON_KEY,
  DOCKER_CONFIG_JSON_TYPE,
  type SourceCheck,
} from './docker-config.js';
import { coverageOf, type Coverage } from './coverage.js';
import {
  COPY_OF_LABEL,
  copyOfValue,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
} from './labels.js';
import type { Propagation } from './wanted.js';
import { refKey, type NamespaceSnapshot, type SecretRef, type SecretSnapshot } from './types.js';

/** A copy as it should be: what the controller applies (server-side apply owns exactly these fields). */
export interface DesiredCopy extends SecretRef {
  readonly source: SecretRef;
  readonly type: typeof DOCKER_CONFIG_JSON_TYPE;
  readonly data: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export type CopyAction =
  | { readonly kind: 'create'; readonly copy: DesiredCopy }
  | { readonly kind: 'update'; readonly copy: DesiredCopy; readonly changed: readonly string[] }
  | { readonly kind: 'delete'; readonly ref: SecretRef; readonly why: string };

export interface ReconcileInput {
  readonly propagations: readonly Propagation[];
  /** The source Secrets that exist, by `namespace/name`. */
  readonly sources: ReadonlyMap<string, SecretSnapshot>;
  readonly namespaces: readonly NamespaceSnapshot[];
  /** Every Secret carrying the copy labels, wherever it is. */
  readonly copies: readonly SecretSnapshot[];
  readonly coverage: Coverage;
}

export interface SourceStatus {
  readonly propagation: Propagation;
  readonly check: SourceCheck;
}

export interface ReconcilePlan {
  readonly actions: readonly CopyAction[];
  readonly sources: readonly SourceStatus[];
  /**
   * `namespace/secretName` of every copy that should exist and does not (yet): a Pod admitted there now gets a
   * warning, since the kubelet would pull without the credentials.
   */
  readonly missing: ReadonlySet<string>;
}

/**
 * Decides, from what the informers hold, which copies to create, update and delete. Level-based: the same input
 * gives the same plan, and applying it gives an input whose plan is empty, so the controller can run it after
 * every event, after a failure and on a timer alike.
 *
 * - A covered namespace gets one copy per propagation whose source is usable; an existing copy is updated when its
 *   docker config, labels or source annotation differ (only the fields the gate owns are compared).
 * - A copy that is no longer wanted (entry removed, namespace excluded) is deleted; a copy whose source is missing
 *   or broken is kept as it is: an accidental delete of the source must not break pulls everywhere.
 * - Terminating namespaces are left alone, and the source Secret itself is never written or deleted.
 */
export function planCopies(input: ReconcileInput): ReconcilePlan {
  const copies = new Map(input.copies.map((c) => [refKey(c), c]));
  const sourceKeys = new Set(input.propagations.map((p) => refKey(p.from)));
  const statuses = input.propagations.map((propagation) => ({
    propagation,
    check: checkSource(input.sources.get(refKey(propagation.from)), propagation.registries),
  }));
  const actions: CopyAction[] = [];
  const wanted = new Set<string>();
  const missing = new Set<string>();
  const terminating = new Set(input.namespaces.filter((ns) => ns.terminating).map((ns) => ns.name));

  for (const ns of input.namespaces) {
    if (ns.terminating || !coverageOf(ns, input.coverage).covered) continue;
    for (const { propagation, check } of statuses) {
      const ref = { namespace: ns.name, name: propagation.secretName };
      if (sourceKeys.has(refKey(ref))) continue;
      wanted.add(refKey(ref));
      const existing = copies.get(refKey(ref));
      if (existing === undefined) missing.add(refKey(ref));
      const source = input.sources.get(refKey(propagation.from));
      if (!check.usable || source === undefined) continue;
      const desired = desiredCopy(ref, source);
      if (existing === undefined) actions.push({ kind: 'create', copy: desired });
      else if (existing.type !== desired.type) {
        // The type of a Secret is immutable: delete it, and the next pass creates it right.
        actions.push({ kind: 'delete', ref, why: `type ${existing.type} cannot be changed in place` });
      } else {
        const changed = differences(existing, desired);
        if (changed.length > 0) actions.push({ kind: 'update', copy: desired, changed });
      }
    }
  }

  for (const copy of input.copies) {
    const key = refKey(copy);
    if (wanted.has(key) || sourceKeys.has(key) || terminating.has(copy.namespace)) continue;
    actions.push({
      kind: 'delete',
      ref: { namespace: copy.namespace, name: copy.name },
      why: whyUnwanted(copy, input),
    });
  }
  return { actions, sources: statuses, missing };
}

export function desiredCopy(ref: SecretRef, source: SecretSnapshot): DesiredCopy {
  const from = { namespace: source.namespace, name: source.name };
  return {
    ...ref,
    source: from,
    type: DOCKER_CONFIG_JSON_TYPE,
    data: { [DOCKER_CONFIG_JSON_KEY]: source.data[DOCKER_CONFIG_JSON_KEY] ?? '' },
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COPY_OF_LABEL]: copyOfValue(from) },
    annotations: { [SOURCE_ANNOTATION]: refKey(from) },
  };
}

/** The owned fields that differ; fields other managers added (labels, keys) are theirs and not compared. */
function differences(existing: SecretSnapshot, desired: DesiredCopy): string[] {
  const changed: string[] = [];
  if (existing.data[DOCKER_CONFIG_JSON_KEY] !== desired.data[DOCKER_CONFIG_JSON_KEY]) changed.push('data');
  for (const [k, v] of Object.entries(desired.labels))
    if (existing.labels[k] !== v) changed.push(`label ${k}`);
  for (const [k, v] of Object.entries(desired.annotations))
    if (existing.annotations[k] !== v) changed.push(`annotation ${k}`);
  return changed;
}

function whyUnwanted(copy: SecretSnapshot, input: ReconcileInput): string {
  if (!input.propagations.some((p) => p.secretName === copy.name))
    return 'no pullSecrets entry names it any more';
  const ns = input.namespaces.find((n) => n.name === copy.namespace);
  if (ns === undefined) return 'namespace unknown';
  const verdict = coverageOf(ns, input.coverage);
  return verdict.covered ? 'not wanted' : `namespace not covered (${verdict.why})`;
}
