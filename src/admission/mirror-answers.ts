import {
  applyMirrorAnswer,
  mirrorLookup,
  type CompiledPolicy,
  type MirrorAnswer,
  type MirrorLookup,
} from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import type { DecideImage, Phase, RequestEvaluation } from './evaluate-request.js';

/**
 * The mirror questions of one review, each distinct image once: the first pure step of a mirror-aware admission
 * (the second is {@link decideWithAnswers}; between them the HTTP layer asks the mirrors, within the budget).
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
 * `decide` with the mirrors' answers folded into each decision (policy/mirror-check.ts applyMirrorAnswer), so that
 * mutate and validate build their answer from decisions as they always have. The mutating webhook takes only what
 * pins (a found digest): judging, warning and denying are the validating webhook's, which asks on its own and
 * would otherwise print every warning twice.
 */
export function decideWithAnswers(
  decide: DecideImage,
  answers: ReadonlyMap<string, MirrorAnswer>,
  phase: Phase,
): DecideImage {
  return (image, context) => {
    const decision = decide(image, context);
    if (decision.final === null || decision.servedBy === null) return decision;
    // The key mirrorLookup gave the image: its final reference as text.
    const answer = answers.get(formatReference(decision.final));
    if (answer === undefined || (phase === 'mutate' && answer.status !== 'found')) return decision;
    return applyMirrorAnswer(decision, answer);
  };
}
