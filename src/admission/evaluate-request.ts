import { evaluateWorkload, type Decide, type Finding, type PodSpecLocation } from '../engine/index.js';
import type { CompiledPolicy } from '../policy/index.js';
import type { AdmissionRequest } from './review.js';

export type RequestEvaluation =
  | { readonly kind: 'skipped'; readonly why: string }
  /** The object cannot be read: the request is answered 400 with this reason, never allowed. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'evaluated'; readonly location: PodSpecLocation; readonly findings: readonly Finding[] };

/** Which webhook asks: the mutator looks at what images become; the validator at what will be pulled. */
export type Phase = 'mutate' | 'validate';

/**
 * The protocol side of one admission's judgement: which operations and subresources the webhooks judge, and the
 * request's object as a workload for the engine (`evaluateWorkload`). Only new or changed images count on UPDATE
 * (a label change on a running Pod with a grandfathered image must not be denied), and only ephemeral containers
 * on the `pods/ephemeralcontainers` subresource.
 */
export function evaluateRequest(
  policy: CompiledPolicy,
  request: AdmissionRequest,
  phase: Phase,
  decide?: Decide | undefined,
): RequestEvaluation {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') {
    return { kind: 'skipped', why: `operation ${request.operation}` };
  }
  const ephemeralOnly = request.subResource === 'ephemeralcontainers';
  if (request.subResource !== '' && !ephemeralOnly)
    return { kind: 'skipped', why: `subresource ${request.subResource}` };
  const result = evaluateWorkload(
    policy,
    {
      group: request.kind.group,
      kind: request.kind.kind,
      object: request.object,
      previous: request.operation === 'UPDATE' ? request.oldObject : null,
      namespace: request.namespace,
    },
    // The validator judges a Pod as it stands (it must not trust that mutation ran), a template as its Pods will be.
    { podJudge: phase === 'validate' ? 'as-written' : 'final', ephemeralOnly },
    decide,
  );
  if (result.kind === 'invalid') {
    return {
      kind: 'invalid',
      reason: `request.${result.in === 'object' ? 'object' : 'oldObject'}.${result.reason}`,
    };
  }
  return result;
}
