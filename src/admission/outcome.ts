import type { Mode } from '../policy/index.js';
import type { RequestEvaluation } from './evaluate-request.js';
import type { AdmissionResponse } from './review.js';

/** A rewrite as logged and counted. */
export interface Rewrite {
  readonly location: string;
  readonly from: string;
  readonly to: string;
  readonly source: string | null;
  readonly mirror: string | null;
}

/** What one admission decided: the response for the apiserver and the facts for the log line and metrics. */
export interface AdmissionOutcome {
  readonly response: AdmissionResponse;
  readonly mode: Mode;
  /** allow | deny | warn (allowed, would have been denied) | audit (allowed, would have been denied, silent) | skip */
  readonly decision: 'allow' | 'deny' | 'warn' | 'audit' | 'skip';
  readonly evaluation: RequestEvaluation;
  readonly rewrites: readonly Rewrite[];
  /** Violation codes, one per offending image. */
  readonly violations: readonly string[];
}
