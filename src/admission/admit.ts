import type { Decide } from '../engine/index.js';
import type { CompiledPolicy, Mode } from '../policy/index.js';
import { mutate } from './mutate.js';
import type { AdmissionOutcome } from './outcome.js';
import {
  readAdmissionReview,
  reviewResponse,
  type AdmissionRequest,
  type AdmissionReviewResponse,
} from './review.js';
import { validate } from './validate.js';

export type Webhook = 'mutate' | 'validate';

/** What one admission is judged with, besides the request. */
export interface AdmitContext {
  readonly policy: CompiledPolicy;
  /** The mode of the route (`/validate/warn`); the policy's `spec.mode` when absent. */
  readonly mode?: Mode | undefined;
  /** `namespace/secretName` of pull-secret copies that are not in their namespace yet (see `mutate`). */
  readonly missingPullSecrets?: ReadonlySet<string> | undefined;
  /** How to decide one image (the server's DecisionCache); `evaluateImage` when absent. */
  readonly decide?: Decide | undefined;
}

/**
 * One admission, top to bottom: the request body (parsed JSON) in, and out either a bad request with the
 * reason (the transport answers 400) or the AdmissionReview to send with the facts to log and count. Nothing a
 * transport must add or override: a malformed envelope and an object whose pod spec cannot be read are both bad
 * requests here, so no caller can let such an object through. Three failures, three answers (docs/architecture.md, "Errors"): bad
 * input is `ok: false`; a policy "no" is an ordinary review with `allowed: false`; a crash is a thrown error.
 */
export type Admission =
  | { readonly ok: false; readonly reason: string }
  | {
      readonly ok: true;
      readonly review: AdmissionReviewResponse;
      readonly request: AdmissionRequest;
      readonly outcome: AdmissionOutcome;
    };

const NOTHING_MISSING: ReadonlySet<string> = new Set();

export function admit(webhook: Webhook, body: unknown, context: AdmitContext): Admission {
  const read = readAdmissionReview(body);
  if (!read.ok) return { ok: false, reason: read.reason };
  const { request } = read;
  const { policy, decide } = context;
  const mode = context.mode ?? policy.spec.mode;
  const outcome =
    webhook === 'mutate'
      ? mutate(policy, request, mode, {
          missingPullSecrets: context.missingPullSecrets ?? NOTHING_MISSING,
          decide,
        })
      : validate(policy, request, mode, decide);
  if (outcome.decision === 'invalid')
    return { ok: false, reason: outcome.reason ?? 'the object cannot be read' };
  return { ok: true, review: reviewResponse(outcome.response), request, outcome };
}
