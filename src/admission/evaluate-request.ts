import {
  evaluateImage,
  type CompiledPolicy,
  type ImageContext,
  type ImageDecision,
} from '../policy/index.js';
import { findImages, siteKey, siteKeys, type ImageSite } from './image-walk.js';
import { isRecord } from '../policy/index.js';
import { getPath } from './pointer.js';
import { podSpecLocation, type PodSpecLocation } from './pod-spec-table.js';
import type { AdmissionRequest } from './review.js';

export interface Finding {
  readonly site: ImageSite;
  readonly decision: ImageDecision;
}

export type RequestEvaluation =
  | { readonly kind: 'skipped'; readonly why: string }
  | { readonly kind: 'malformed'; readonly reason: string }
  | {
      readonly kind: 'evaluated';
      readonly location: PodSpecLocation;
      readonly findings: readonly Finding[];
      /** The Pod's existing `imagePullSecrets` names, or null when the field is absent. */
      readonly existingPullSecrets: readonly string[] | null;
    };

/** Which webhook asks: the mutator looks at what images become; the validator at what will be pulled. */
export type Phase = 'mutate' | 'validate';

/** Decides one image under the request's policy: `evaluateImage`, or a cache of its answers (DecisionCache). */
export type DecideImage = (image: string, context: ImageContext) => ImageDecision;

/**
 * Finds the images of a request that this admission must decide and decides each. Only new or changed images
 * count on UPDATE (a label change on a running Pod with a grandfathered image must not be denied), and only
 * ephemeral containers on the `pods/ephemeralcontainers` subresource.
 */
export function evaluateRequest(
  policy: CompiledPolicy,
  request: AdmissionRequest,
  phase: Phase,
  decide?: DecideImage | undefined,
): RequestEvaluation {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') {
    return { kind: 'skipped', why: `operation ${request.operation}` };
  }
  const location = podSpecLocation(request.kind.group, request.kind.kind);
  if (location === null) return { kind: 'skipped', why: `kind ${request.kind.group}/${request.kind.kind}` };
  const ephemeralOnly = request.subResource === 'ephemeralcontainers';
  if (request.subResource !== '' && !ephemeralOnly)
    return { kind: 'skipped', why: `subresource ${request.subResource}` };

  const spec = getPath(request.object, location.specPath);
  const walk = findImages(spec, location.specPath);
  if (!walk.ok) return { kind: 'malformed', reason: `request.object.${walk.reason}` };
  let sites = ephemeralOnly ? walk.sites.filter((s) => s.list === 'ephemeralContainers') : walk.sites;
  if (request.operation === 'UPDATE') {
    const old = findImages(getPath(request.oldObject, location.specPath), location.specPath);
    if (!old.ok) return { kind: 'malformed', reason: `request.oldObject.${old.reason}` };
    const before = siteKeys(old.sites);
    sites = sites.filter((s) => !before.has(siteKey(s)));
  }

  // The validator judges a Pod as it stands (it must not trust that mutation ran), a template as its Pods will be.
  const judge = phase === 'validate' && !location.isTemplate ? 'as-written' : 'final';
  const context: ImageContext = { judge, namespace: request.namespace };
  // A Pod often repeats an image (sidecars, init and main container): decide each distinct one once.
  const seen = new Map<string, ImageDecision>();
  const findings: Finding[] = [];
  for (const site of sites) {
    let decision = seen.get(site.image);
    if (decision === undefined) {
      decision = decide ? decide(site.image, context) : evaluateImage(policy, site.image, context);
      seen.set(site.image, decision);
    }
    findings.push({ site, decision });
  }
  const secrets = getPath(spec, ['imagePullSecrets']);
  const existingPullSecrets = Array.isArray(secrets)
    ? secrets.flatMap((s: unknown) => (isRecord(s) && typeof s['name'] === 'string' ? [s['name']] : []))
    : null;
  return { kind: 'evaluated', location, findings, existingPullSecrets };
}
