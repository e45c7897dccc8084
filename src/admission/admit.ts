import type { Decide } from '../engine/index.js';
import {
  asksMirrors,
  type CompiledPolicy,
  type MirrorAnswer,
  type MirrorLookup,
  type Mode,
} from '../policy/index.js';
import { evaluateRequest, type RequestEvaluation } from './evaluate-request.js';
import { MirrorMemo, mirrorLookups, withMirrorAnswers } from './mirror-answers.js';
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

/** What admission needs of the registry adapter: one review's look-ups, answered (src/runtime/mirror-verification.ts). */
export interface MirrorQuestions {
  ask(lookups: readonly MirrorLookup[]): Promise<Map<string, MirrorAnswer>>;
}

/** What one admission is judged with, besides the request. */
export interface AdmitContext {
  readonly policy: CompiledPolicy;
  /** The mode of the route (`/validate/warn`); the policy's `spec.mode` when absent. */
  readonly mode?: Mode | undefined;
  /** `namespace/secretName` of pull-secret copies that are not in their namespace yet (see `mutate`). */
  readonly missingPullSecrets?: ReadonlySet<string> | undefined;
  /** How to decide one image (the server's DecisionCache); `evaluateImage` when absent. */
  readonly decide?: Decide | undefined;
  /** Asks mirrors (`verify`, `pin`) within the review's budget; absent: no mirror is ever asked. */
  readonly mirrors?: MirrorQuestions | undefined;
  /** What the mirror steps computed for decisions, kept across reviews by the caller. */
  readonly mirrorMemo?: MirrorMemo | undefined;
}

/**
 * One admission, top to bottom: the request body (parsed JSON) in, and out either a bad request with the
 * reason (the transport answers 400) or the AdmissionReview to send with the facts to log and count. Nothing a
 * transport must add or override: a malformed envelope and an object whose pod spec cannot be read are both bad
 * requests here, so no caller can let such an object through. Three failures, three answers (docs/architecture.md, "Errors"): bad
 * input is `ok: false`; a policy "no" is an ordinary review with `allowed: false`; a crash is a thrown error.
 * Asynchronous only for the mirror questions (`verify`, `pin`), which the caller's adapter answers: the rest is
 * pure.
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

export async function admit(webhook: Webhook, body: unknown, context: AdmitContext): Promise<Admission> {
  const read = readAdmissionReview(body);
  if (!read.ok) return { ok: false, reason: read.reason };
  const { request } = read;
  const { policy, decide } = context;
  const mode = context.mode ?? policy.spec.mode;
  // In audit mode the mutating webhook changes nothing, so it has nothing to pin and nothing to ask.
  const asks =
    context.mirrors !== undefined && asksMirrors(policy) && !(webhook === 'mutate' && mode === 'audit');
  const evaluation =
    context.mirrors !== undefined && asks
      ? await askMirrors(
          context.mirrors,
          context.mirrorMemo ?? new MirrorMemo(),
          policy,
          request,
          webhook,
          decide,
        )
      : undefined;
  const outcome =
    webhook === 'mutate'
      ? mutate(policy, request, mode, {
          missingPullSecrets: context.missingPullSecrets ?? NOTHING_MISSING,
          decide,
          evaluation,
        })
      : validate(policy, request, mode, decide, evaluation);
  if (outcome.decision === 'invalid')
    return { ok: false, reason: outcome.reason ?? 'the object cannot be read' };
  return { ok: true, review: reviewResponse(outcome.response), request, outcome };
}

/**
 * The asynchronous step between two pure ones: the request evaluated, the look-ups it needs (mirror-answers.ts)
 * asked within the budget, and the answers folded into the evaluation that mutate or validate then answer from
 * (so the object is walked once).
 */
async function askMirrors(
  mirrors: MirrorQuestions,
  memo: MirrorMemo,
  policy: CompiledPolicy,
  request: AdmissionRequest,
  webhook: Webhook,
  decide: Decide | undefined,
): Promise<RequestEvaluation> {
  const evaluation = evaluateRequest(policy, request, webhook, decide);
  const lookups = mirrorLookups(policy, evaluation, webhook, memo);
  if (lookups.length === 0) return evaluation;
  return withMirrorAnswers(evaluation, await mirrors.ask(lookups), webhook, memo);
}
