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
 * What the two pure steps below computed for a decision, remembered across reviews. Decisions come from the
 * DecisionCache and answers from the registry adapter's cache, both as the same objects review after review, so a
 * warm review of a 50-container Pod looks its look-ups and folded decisions up instead of building them again.
 * Keys are the decision objects themselves (weakly held): a new policy makes new decisions, and the old entries go
 * with them.
 */
export class MirrorMemo {
  private readonly lookups = new WeakMap<ImageDecision, Partial<Record<Phase, MirrorLookup | null>>>();
  private readonly keys = new WeakMap<ImageDecision, string | null>();
  private readonly folds = new WeakMap<
    ImageDecision,
    { answer: MirrorAnswer; phase: Phase; folded: ImageDecision }
  >();

  lookup(policy: CompiledPolicy, decision: ImageDecision, phase: Phase): MirrorLookup | null {
    let byPhase = this.lookups.get(decision);
    if (byPhase === undefined) {
      byPhase = {};
      this.lookups.set(decision, byPhase);
    }
    let lookup = byPhase[phase];
    if (lookup === undefined) {
      lookup = mirrorLookup(policy, decision, phase === 'mutate' ? 'pin' : 'verify');
      byPhase[phase] = lookup;
    }
    return lookup;
  }

  /** The key an answer about the decision's image has (the lookup's): its final reference, on a mirror. */
  key(decision: ImageDecision): string | null {
    let key = this.keys.get(decision);
    if (key === undefined) {
      key = decision.final === null || decision.servedBy === null ? null : formatReference(decision.final);
      this.keys.set(decision, key);
    }
    return key;
  }

  fold(decision: ImageDecision, answer: MirrorAnswer, phase: Phase): ImageDecision {
    const known = this.folds.get(decision);
    if (known !== undefined && known.answer === answer && known.phase === phase) return known.folded;
    const folded =
      phase === 'mutate' && answer.status !== 'found' ? decision : applyMirrorAnswer(decision, answer);
    this.folds.set(decision, { answer, phase, folded });
    return folded;
  }
}

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
  memo: MirrorMemo = new MirrorMemo(),
): MirrorLookup[] {
  if (evaluation.kind !== 'evaluated') return [];
  if (phase === 'mutate' && evaluation.location.isTemplate && !policy.spec.rewriteTemplates) return [];
  const byKey = new Map<string, MirrorLookup>();
  for (const { decision } of evaluation.findings) {
    const lookup = memo.lookup(policy, decision, phase);
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
  memo: MirrorMemo = new MirrorMemo(),
): RequestEvaluation {
  if (evaluation.kind !== 'evaluated' || answers.size === 0) return evaluation;
  const fold = (decision: ImageDecision): ImageDecision => {
    const key = memo.key(decision);
    const answer = key === null ? undefined : answers.get(key);
    return answer === undefined ? decision : memo.fold(decision, answer, phase);
  };
  return {
    ...evaluation,
    findings: evaluation.findings.map((f) => ({ site: f.site, decision: fold(f.decision) })),
  };
}
