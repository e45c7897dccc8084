import {
  evaluateImage,
  type CompiledPolicy,
  type ImageContext,
  type ImageDecision,
  type Judge,
} from '../policy/index.js';
import { findImages, siteKey, siteKeys, type ImageSite } from './image-walk.js';
import { getPath } from './pointer.js';
import { podSpecLocation, type PodSpecLocation } from './pod-spec-table.js';

/** One image of a workload and what the policy decided for it. */
export interface Finding {
  readonly site: ImageSite;
  readonly decision: ImageDecision;
}

/** Decides one image under one policy: `evaluateImage`, or a DecisionCache's memory of its answers. */
export type Decide = (image: string, context: ImageContext) => ImageDecision;

/** An object that may carry a pod spec, as admission, `audit` and `explain` all hand it to the engine. */
export interface Workload {
  /** API group (`''` for the core group) and kind: `request.kind` at admission, `apiVersion`/`kind` of a manifest. */
  readonly group: string;
  readonly kind: string;
  readonly object: unknown;
  /** The object before an UPDATE: only images that are new or changed against it are judged. Null otherwise. */
  readonly previous: unknown;
  /** The workload's namespace, for namespace exemptions; undefined when it has none. */
  readonly namespace: string | undefined;
}

export interface WorkloadOptions {
  /**
   * How a Pod is judged: `as-written` when nothing will rewrite it any more (the validating webhook, which must
   * not trust that mutation ran; a Pod that already exists), `final` when the mutating webhook still will (the
   * mutator itself; a Pod manifest not yet applied). A pod template is always judged `final`: its Pods will carry
   * the images as the mutating webhook leaves them (docs/adr/0002-judge-what-will-be-pulled.md).
   */
  readonly podJudge: Judge;
  /** Only ephemeral containers count (the `pods/ephemeralcontainers` subresource that `kubectl debug` uses). */
  readonly ephemeralOnly?: boolean;
}

export type WorkloadEvaluation =
  | { readonly kind: 'skipped'; readonly why: string }
  /** The object (or the previous object) has a pod spec that cannot be read; `reason` names the field. */
  | { readonly kind: 'invalid'; readonly in: 'object' | 'previous'; readonly reason: string }
  | {
      readonly kind: 'evaluated';
      readonly location: PodSpecLocation;
      readonly judged: Judge;
      readonly findings: readonly Finding[];
    };

/**
 * The one engine: finds the images of a workload through the kind → pod-spec table and the image walk, and
 * decides each under the policy. The webhooks, `audit` and `explain` all judge through this, so they cannot
 * disagree. Kinds without a pod spec are skipped; a pod spec of the wrong shape is invalid input, never allowed.
 *
 * @example evaluateWorkload(policy, { group: 'apps', kind: 'Deployment', object, previous: null, namespace: 'shop' }, { podJudge: 'final' })
 */
export function evaluateWorkload(
  policy: CompiledPolicy,
  workload: Workload,
  options: WorkloadOptions,
  decide: Decide = (image, context) => evaluateImage(policy, image, context),
): WorkloadEvaluation {
  const location = podSpecLocation(workload.group, workload.kind);
  if (location === null) return { kind: 'skipped', why: `kind ${workload.group}/${workload.kind}` };
  const walk = findImages(getPath(workload.object, location.specPath), location.specPath);
  if (!walk.ok) return { kind: 'invalid', in: 'object', reason: walk.reason };
  let sites = options.ephemeralOnly ? walk.sites.filter((s) => s.list === 'ephemeralContainers') : walk.sites;
  if (workload.previous !== null) {
    const old = findImages(getPath(workload.previous, location.specPath), location.specPath);
    if (!old.ok) return { kind: 'invalid', in: 'previous', reason: old.reason };
    const before = siteKeys(old.sites);
    sites = sites.filter((s) => !before.has(siteKey(s)));
  }

  const judged: Judge = location.isTemplate ? 'final' : options.podJudge;
  const context: ImageContext = { judge: judged, namespace: workload.namespace };
  // A Pod often repeats an image (sidecars, init and main container): decide each distinct one once.
  const seen = new Map<string, ImageDecision>();
  const findings: Finding[] = [];
  for (const site of sites) {
    let decision = seen.get(site.image);
    if (decision === undefined) {
      decision = decide(site.image, context);
      seen.set(site.image, decision);
    }
    findings.push({ site, decision });
  }
  return { kind: 'evaluated', location, judged, findings };
}
