import type { Finding } from '../admission/evaluate-request.js';
import { findImages } from '../admission/image-walk.js';
import { getPath } from '../admission/pointer.js';
import { podSpecLocation, type PodSpecLocation } from '../admission/pod-spec-table.js';
import { evaluateImage, type CompiledPolicy, type ImageDecision, type Judge } from '../policy/index.js';
import type { ObjectIdentity } from './identity.js';

export type ObjectEvaluation =
  | { readonly kind: 'ignored' }
  | { readonly kind: 'malformed'; readonly reason: string }
  | {
      readonly kind: 'evaluated';
      readonly location: PodSpecLocation;
      readonly judged: Judge;
      readonly findings: readonly Finding[];
    };

/**
 * Judges the images of one object as admission would, through the webhook's own kind → pod-spec table, image
 * walk and `evaluateImage`. A template is judged as its Pods will be once the mutating webhook rewrote them. A
 * Pod that already exists (it has a `metadata.uid`: it came from a cluster) is judged as it stands, as the
 * validating webhook judges Pods: nothing will rewrite it any more. A Pod that is only a manifest is judged
 * as the webhook will leave it when it is applied (mutation runs before validation), so a chart's test Pod with
 * `busybox` is a rewrite, not a denial.
 */
export function evaluateObject(
  policy: CompiledPolicy,
  object: Record<string, unknown>,
  identity: ObjectIdentity,
  namespace: string | undefined,
  decide: DecideImage = evaluateImage,
): ObjectEvaluation {
  const location = podSpecLocation(identity.group, identity.kind);
  if (location === null) return { kind: 'ignored' };
  const walk = findImages(getPath(object, location.specPath), location.specPath);
  if (!walk.ok) return { kind: 'malformed', reason: walk.reason };
  const judged: Judge = location.isTemplate || identity.uid === null ? 'final' : 'as-written';
  const findings = walk.sites.map((site) => ({
    site,
    decision: decide(policy, site.image, { judge: judged, namespace }),
  }));
  return { kind: 'evaluated', location, judged, findings };
}

export type DecideImage = typeof evaluateImage;

/**
 * `evaluateImage` remembered per image, judgement and (exempt) namespace: a cluster repeats a few hundred images
 * across tens of thousands of containers. The namespace is part of the key only when the policy exempts it,
 * since it changes nothing otherwise.
 */
export function memoizedDecide(): DecideImage {
  const known = new Map<string, ImageDecision>();
  return (policy, image, context) => {
    const ns =
      context.namespace !== undefined && policy.exemptNamespaces.has(context.namespace)
        ? context.namespace
        : '';
    const key = `${context.judge}\u0000${ns}\u0000${image}`;
    let decision = known.get(key);
    if (decision === undefined) {
      decision = evaluateImage(policy, image, context);
      known.set(key, decision);
    }
    return decision;
  };
}
