import type { Decide, Finding } from '../engine/index.js';
import type { CompiledPolicy, Mode } from '../policy/index.js';
import { evaluateRequest, type RequestEvaluation } from './evaluate-request.js';
import { chain, denialMessage, lazyMap, violationText } from './messages.js';
import { modeEffects } from './mode.js';
import { invalidOutcome, type AdmissionOutcome } from './outcome.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';
import { boundedWarnings } from './warnings.js';

/**
 * The validating webhook: denies every image that resolves to a blocked or non-allowed registry, all of them in
 * one message with the fix. Never patches. In warn mode the same findings come back as warnings; in audit mode
 * the request is allowed without a word and the outcome is only logged and counted.
 */
export function validate(
  policy: CompiledPolicy,
  request: AdmissionRequest,
  mode: Mode,
  decide?: Decide | undefined,
  /** The request already evaluated (with the mirrors' answers folded in, mirror-answers.ts): not walked again. */
  evaluated?: RequestEvaluation | undefined,
): AdmissionOutcome {
  const evaluation = evaluated ?? evaluateRequest(policy, request, 'validate', decide);
  if (evaluation.kind === 'invalid') return invalidOutcome(request.uid, mode, evaluation.reason);
  const base = { mode, rewrites: [] };
  if (evaluation.kind === 'skipped') {
    return { ...base, decision: 'skip', violations: [], response: { uid: request.uid, allowed: true } };
  }
  const violations = evaluation.findings.filter((f) => f.decision.decision === 'deny');
  const codes = violations.map((f) => f.decision.code ?? 'UNKNOWN');
  const effects = modeEffects(mode);
  const warnings = effects.warns ? evaluation.findings.flatMap((f) => f.decision.warnings) : [];
  const response: AdmissionResponse = { uid: request.uid, allowed: true };
  let decision: AdmissionOutcome['decision'] = 'allow';
  let wouldDeny: readonly Finding[] = [];
  if (violations.length > 0) {
    if (effects.denies) {
      response.allowed = false;
      response.status = { code: 403, reason: 'Forbidden', message: denialMessage(violations) };
      decision = 'deny';
    } else if (effects.warns) {
      wouldDeny = violations;
      decision = 'warn';
    } else {
      decision = 'audit';
    }
    response.auditAnnotations = { violations: boundedCodes(codes) };
  }
  const count = wouldDeny.length + warnings.length;
  if (count > 0) {
    const denials = lazyMap(wouldDeny, (f) => `registry-gate (warn mode) would deny: ${violationText(f)}`);
    response.warnings = boundedWarnings(chain(denials, warnings), count);
  }
  return { ...base, decision, violations: codes, response };
}

/** One code per offending container, as an audit annotation: the first hundred, then how many more. */
const MAX_CODES = 100;
function boundedCodes(codes: readonly string[]): string {
  const shown = codes.slice(0, MAX_CODES).join(',');
  return codes.length > MAX_CODES ? `${shown},+${codes.length - MAX_CODES}` : shown;
}
