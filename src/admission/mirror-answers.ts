import {
  applyMirrorAnswer,
  mirrorLookup,
  type CompiledPolicy,
  type ImageDecision,
  type MirrorAnswer,
  type MirrorLookup,
} from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import type { Phase, RequestEvaluation } from './evaluate-request.js';

/**
 * The mirror questions of one review, each distinct image once: the first pure step of a mirror-aware admission
 * (the second is {@link withMirrorAnswers}; between them the HTTP layer asks the mirrors, within the budget).
 * The validating webhook asks for every image whose mirror has `verify` on; the mutating webhook only for the
 * images it will pin (`pin: digest`, no digest yet), and only where it patches (Pods, or templates with
 * `rewriteTemplates`).
 */
export function mirrorLookups(
  policy: CompiledPolicy,
  evaluation: RequestEvaluation,
  phase: Phase,
): MirrorLookup[] {
  if (evaluation.kind !== 'evaluated') return [];
  if (phase === 'mutate' && evaluation.location.isTemplate && !policy.spec.rewriteTemplates) return [];
  const byKey = new Map<string, MirrorLookup>();
  for (const { decision } of evaluation.findings) {
    const lookup = mirrorLookup(policy, decision, phase === 'mutate' ? 'pin' : 'verify');
    if (lookup !== null && !byKey.has(lookup.key)) byKey.set(lookup.key, lookup);
  }
  return [...byKey.values()];
}

/**
 * The evaluation with the mirrors' answers folded into its decisions (policy/mirror-check.ts applyMirrorAnswer):
 * the second pure step, after which mutate and validate build their answer from decisions as they always have.
 * The mutating webhook takes only what pins (a found digest): judging, warning and denying are the validating
 * webhook's, which asks on its own and would otherwise print every warning twice.
 */
export function withMirrorAnswers(
  evaluation: RequestEvaluation,
  answers: ReadonlyMap<string, MirrorAnswer>,
  phase: Phase,
): RequestEvaluation {
  if (evaluation.kind !== 'evaluated' || answers.size === 0) return evaluation;
  // Sites that share an image share its decision object: fold each once.
  const folded = new Map<ImageDecision, ImageDecision>();
  const fold = (decision: ImageDecision): ImageDecision => {
    let after = folded.get(decision);
    if (after === undefined) {
      const answer =
        decision.final === null || decision.servedBy === null
          ? undefined
          : answers.get(formatReference(decision.final));
      after =
        answer === undefined || (phase === 'mutate' && answer.status !== 'found')
          ? decision
          : applyMirrorAnswer(decision, answer);
      folded.set(decision, after);
    }
    return after;
  };
  return {
    ...evaluation,
    findings: evaluation.findings.map((f) => ({ site: f.site, decision: fold(f.decision) })),
  };
}
