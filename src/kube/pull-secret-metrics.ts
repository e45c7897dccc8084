import type { Counter, Gauge } from 'prom-client';

/** What pull-secret propagation counts; the server's Metrics (src/runtime/metrics.ts) has these. */
export interface PullSecretMetrics {
  readonly pullSecretCopies: Counter<'result'>;
  readonly pullSecretCopiesMissing: Gauge;
  readonly pullSecretSourceProblems: Gauge<'source' | 'code'>;
  readonly pullSecretLeader: Gauge;
}
