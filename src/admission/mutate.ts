import type { CompiledPolicy, Mode } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import { evaluateRequest, type Finding } from './evaluate-request.js';
import { boundedWarnings, rewriteText } from './messages.js';
import { modeEffects } from './mode.js';
import type { AdmissionOutcome, Rewrite } from './outcome.js';
import { originalImagesOps, pullSecretOps, type PatchOperation } from './patch.js';
import { getPath } from './pointer.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';

/**
 * The mutating webhook: rewrites images to the mirror and injects pull secrets, on Pods always and on pod
 * templates when `rewriteTemplates` is set (otherwise it only warns what their Pods will get, so GitOps tools see
 * no drift). Never denies: judging is the validating webhook's job, which does not trust that this ran.
 */
export function mutate(policy: CompiledPolicy, request: AdmissionRequest, mode: Mode): AdmissionOutcome {
  const evaluation = evaluateRequest(policy, request, 'mutate');
  const base = { mode, evaluation, violations: [] as string[] };
  if (evaluation.kind !== 'evaluated') {
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
  const ops: PatchOperation[] = [];
  if (patchesObject) {
    for (const f of rewriting) ops.push({ op: 'replace', path: f.site.pointer, value: rewriteTarget(f) });
    // imagePullSecrets of an existing Pod are immutable; a template's may change.
    if (request.operation === 'CREATE' || location.isTemplate) {
      const wanted = [
        ...new Set(findings.flatMap((f) => (f.decision.decision === 'allow' ? f.decision.pullSecrets : []))),
      ];
      ops.push(...pullSecretOps(location.specPath, evaluation.existingPullSecrets, wanted));
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
    warnings.push(...rewriting.map(rewriteText));
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
