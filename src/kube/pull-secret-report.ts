import type { Logger } from 'pino';
import type { PullSecretMetrics } from './pull-secret-metrics.js';
import type { SourceStatus } from '../pull-secrets/reconcile.js';
import { refKey } from '../pull-secrets/types.js';

/**
 * Says what is wrong with the pull-secret sources: a log line when a problem appears or goes away (not on every
 * pass), a gauge per problem, and the `/readyz` line. Problems carry codes and structure only, never content.
 */
export class SourceReport {
  private statuses: readonly SourceStatus[] = [];
  private last = '';

  constructor(
    private readonly logger: Logger,
    private readonly metrics: PullSecretMetrics,
  ) {}

  note(statuses: readonly SourceStatus[]): void {
    this.statuses = statuses;
    const gauge = this.metrics.pullSecretSourceProblems;
    gauge.reset();
    for (const s of statuses) {
      for (const p of s.check.problems) gauge.inc({ source: refKey(s.propagation.from), code: p.code });
    }
    const fingerprint = JSON.stringify(statuses.map((s) => [refKey(s.propagation.from), s.check.problems]));
    if (fingerprint === this.last) return;
    this.last = fingerprint;
    for (const s of statuses) {
      const source = refKey(s.propagation.from);
      if (s.check.problems.length === 0) this.logger.info({ source }, 'pull-secret source ok');
      else
        this.logger.error(
          { source, usable: s.check.usable, problems: s.check.problems },
          s.check.usable
            ? 'pull-secret source is copied but lacks credentials for a registry'
            : 'pull-secret source cannot be copied',
        );
    }
  }

  line(leading: boolean, missing: number): string {
    const problems = this.statuses.flatMap((s) =>
      s.check.problems.map((p) => `${refKey(s.propagation.from)}: ${p.code} (${p.message})`),
    );
    const sources = `${this.statuses.length} source(s)${problems.length === 0 ? ' ok' : `; ${problems.join('; ')}`}`;
    return `${leading ? 'leader' : 'standby'}; ${sources}; ${missing} copies missing`;
  }
}
