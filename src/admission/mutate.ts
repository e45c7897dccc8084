import { boundedJsonMap, getPath, type Decide, type Finding } from '../engine/index.js';
import { isRecord, type CompiledPolicy, type Mode } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import { evaluateRequest, type RequestEvaluation } from './evaluate-request.js';
import { chain, lazyMap } from './messages.js';
import { modeEffects } from './mode.js';
import { invalidOutcome, type AdmissionOutcome, type Rewrite } from './outcome.js';
import { ORIGINAL_IMAGES_ANNOTATION, originalImagesValue, readOriginalImages } from './original-images.js';
import { annotationsOf, originalImagesOps, pullSecretOps, type PatchOperation } from './patch.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';
import { boundedWarnings, rewriteWarnings } from './warnings.js';

/** What the server knows beyond the request, handed in as data so this layer stays pure. */
export interface AdmissionContext {
  /**
   * `namespace/secretName` of pull-secret copies the server keeps (`pullSecrets[].from`) that are not in their
   * namespace (yet). A Pod that needs one is admitted with a warning: the kubelet would pull without credentials.
   */
  readonly missingPullSecrets: ReadonlySet<string>;
  /** How to decide one image (a DecisionCache shared across requests); `evaluateImage` when absent. */
  readonly decide?: Decide | undefined;
  /** The request already evaluated (with the mirrors' answers folded in, mirror-answers.ts): not walked again. */
  readonly evaluation?: RequestEvaluation | undefined;
}

const NO_CONTEXT: AdmissionContext = { missingPullSecrets: new Set() };

/**
 * The mutating webhook: rewrites images to the mirror and injects pull secrets, on Pods always and on pod
 * templates when `rewriteTemplates` is set (otherwise it only warns what their Pods will get, so GitOps tools see
 * no drift). Never denies: judging is the validating webhook's job, which does not trust that this ran.
 */
export function mutate(
  policy: CompiledPolicy,
  request: AdmissionRequest,
  mode: Mode,
  context: AdmissionContext = NO_CONTEXT,
): AdmissionOutcome {
  const evaluation = context.evaluation ?? evaluateRequest(policy, request, 'mutate', context.decide);
  if (evaluation.kind === 'invalid') return invalidOutcome(request.uid, mode, evaluation.reason);
  const base = { mode, violations: [] as string[] };
  if (evaluation.kind === 'skipped') {
    return { ...base, decision: 'skip', rewrites: [], response: { uid: request.uid, allowed: true } };
  }
  const { location, findings } = evaluation;
  const rewriting = findings.filter((f) => f.decision.rewrite && f.decision.decision === 'allow');
  const rewrites = rewriting.map(toRewrite);
  const effects = modeEffects(mode);
  const response: AdmissionResponse = { uid: request.uid, allowed: true };
  if (!effects.mutates) return { ...base, decision: 'allow', rewrites, response };

  const patchesObject = !location.isTemplate || policy.spec.rewriteTemplates;
  const warnings = findings.flatMap((f) => f.decision.warnings);
  // A Set filled in a loop: a flatMap made an array as long as the Pod's container list first.
  const wantedSet = new Set<string>();
  for (const f of findings) {
    if (f.decision.decision === 'allow') for (const name of f.decision.pullSecrets) wantedSet.add(name);
  }
  const wanted = [...wantedSet];
  warnings.push(...missingSecretWarnings(request.namespace, wanted, context.missingPullSecrets));
  const ops: PatchOperation[] = [];
  if (patchesObject) {
    // rewrites[i] is rewriting[i]: its `to` is formatted once for the patch, the log and the metrics.
    rewriting.forEach((f, i) => ops.push({ op: 'replace', path: f.site.pointer, value: rewrites[i]!.to }));
    // imagePullSecrets of an existing Pod are immutable; a template's may change.
    if (request.operation === 'CREATE' || location.isTemplate) {
      const existing = existingPullSecrets(
        getPath(request.object, [...location.specPath, 'imagePullSecrets']),
      );
      ops.push(...pullSecretOps(location.specPath, existing, wanted));
    }
    // The ephemeralcontainers subresource may change nothing outside spec.ephemeralContainers.
    if (rewriting.length > 0 && request.subResource !== 'ephemeralcontainers') {
      const metadata = getPath(request.object, location.metadataPath);
      const recorded = recordOriginals(metadata, rewriting);
      warnings.push(...recorded.warnings);
      ops.push(...originalImagesOps(location.metadataPath, metadata, recorded.value));
    }
  }
  if (ops.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
  }
  const templateRewrites = patchesObject ? [] : rewriting;
  const count = warnings.length + templateRewrites.length;
  if (count > 0)
    response.warnings = boundedWarnings(
      chain<string | readonly string[]>(warnings, lazyMap(templateRewrites, rewriteWarnings)),
      count,
    );
  if (rewrites.length > 0) {
    const audit = boundedJsonMap(
      rewrites.length,
      (i) => [rewrites[i]!.location, rewrites[i]!.from],
      MAX_AUDIT_ANNOTATION_CHARS,
    );
    response.auditAnnotations = { 'original-images': audit.value };
  }
  return { ...base, decision: 'allow', rewrites, response };
}

/** auditAnnotations land in every audit event of the request: a few kilobytes, not one entry per container. */
const MAX_AUDIT_ANNOTATION_CHARS = 16 * 1024;

/**
 * The original-images annotation after this pass: the earlier record (read defensively: it is tenant-writable),
 * merged with this pass's originals and bounded in size, with a warning for what could not be read or kept.
 */
function recordOriginals(
  metadata: unknown,
  rewriting: readonly Finding[],
): { value: string; warnings: string[] } {
  const warnings: string[] = [];
  const previous = readOriginalImages(annotationsOf(metadata)?.[ORIGINAL_IMAGES_ANNOTATION]);
  if (!previous.ok) {
    warnings.push(
      `registry-gate: the ${ORIGINAL_IMAGES_ANNOTATION} annotation was not readable (${previous.why}) and was replaced`,
    );
  }
  const { value, left } = originalImagesValue(
    previous.ok ? previous.entries : new Map(),
    rewriting.length,
    (i) => [`${rewriting[i]!.site.list}/${rewriting[i]!.site.name}`, rewriting[i]!.site.image],
  );
  if (left > 0) {
    warnings.push(
      `registry-gate: original images of ${left} containers not recorded in ${ORIGINAL_IMAGES_ANNOTATION} (size bound)`,
    );
  }
  return { value, warnings };
}

/** The names of a pod spec's `imagePullSecrets`, or null when the field is absent (the patch adds the array). */
function existingPullSecrets(secrets: unknown): readonly string[] | null {
  if (!Array.isArray(secrets)) return null;
  return secrets.flatMap((s: unknown) => (isRecord(s) && typeof s['name'] === 'string' ? [s['name']] : []));
}

function rewriteTarget(f: Finding): string {
  return f.decision.final ? formatReference(f.decision.final) : f.site.image;
}

function toRewrite(f: Finding): Rewrite {
  return {
    location: f.site.location,
    from: f.site.image,
    to: rewriteTarget(f),
    source: f.decision.mirror?.source ?? null,
    mirror: f.decision.mirror?.mirror ?? null,
  };
}

function missingSecretWarnings(
  namespace: string,
  wanted: readonly string[],
  missing: ReadonlySet<string>,
): string[] {
  return wanted
    .filter((name) => missing.has(`${namespace}/${name}`))
    .map(
      (name) =>
        `registry-gate: pull secret "${name}" is not in namespace "${namespace}" yet (registry-gate copies it there); image pulls may fail until it is`,
    );
}
