import { getPath, type Decide, type Finding } from '../engine/index.js';
import { isRecord, type CompiledPolicy, type Mode } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import { evaluateRequest, type RequestEvaluation } from './evaluate-request.js';
import { boundedWarnings, rewriteWarnings } from './warnings.js';
import { modeEffects } from './mode.js';
import { invalidOutcome, type AdmissionOutcome, type Rewrite } from './outcome.js';
import { originalImagesOps, pullSecretOps, type PatchOperation } from './patch.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';

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
  const wanted = [
    ...new Set(findings.flatMap((f) => (f.decision.decision === 'allow' ? f.decision.pullSecrets : []))),
  ];
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
      const originals = Object.fromEntries(
        rewriting.map((f) => [`${f.site.list}/${f.site.name}`, f.site.image]),
      );
      ops.push(
        ...originalImagesOps(
          location.metadataPath,
          getPath(request.object, location.metadataPath),
          originals,
        ),
      );
    }
  } else {
    warnings.push(...rewriting.flatMap(rewriteWarnings));
  }
  if (ops.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
  }
  if (warnings.length > 0) response.warnings = boundedWarnings(warnings);
  if (rewrites.length > 0) {
    response.auditAnnotations = {
      'original-images': JSON.stringify(Object.fromEntries(rewrites.map((r) => [r.location, r.from]))),
    };
  }
  return { ...base, decision: 'allow', rewrites, response };
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
