import type { Mode } from '../policy/index.js';
import type { AdmissionResponse } from './review.js';

/** A rewrite as logged and counted. */
export interface Rewrite {
  readonly location: string;
  readonly from: string;
  readonly to: string;
  readonly source: string | null;
  readonly mirror: string | null;
}

/**
 * What one admission decided: the response for the apiserver and the facts for the log line and metrics.
 * `invalid`: the object could not be read; the response denies it with status 400 (as cert-manager's
 * `Errored(400)`), and `admit` answers the request with HTTP 400 and `reason`.
 */
export interface AdmissionOutcome {
  readonly response: AdmissionResponse;
  readonly mode: Mode;
  /** allow | deny | warn (allowed, would have been denied) | audit (allowed, would have been denied, silent) | skip | invalid */
  readonly decision: 'allow' | 'deny' | 'warn' | 'audit' | 'skip' | 'invalid';
  readonly rewrites: readonly Rewrite[];
  /** Violation codes, one per offending image. */
  readonly violations: readonly string[];
  /** What is wrong with the request, when `decision` is `invalid`. */
  readonly reason?: string;
}

/** The answer to a request whose object cannot be read: denied, with the reason, never allowed by mistake. */
export function invalidOutcome(uid: string, mode: Mode, reason: string): AdmissionOutcome {
  return {
    mode,
    decision: 'invalid',
    rewrites: [],
    violations: [],
    reason,
    response: { uid, allowed: false, status: { code: 400, reason: 'BadRequest', message: reason } },
  };
}
