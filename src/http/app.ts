import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import {
  mutate,
  validate,
  readAdmissionReview,
  reviewResponse,
  type AdmissionContext,
  type AdmissionOutcome,
  type AdmissionRequest,
} from '../admission/index.js';
import { MODES, type CompiledPolicy, type Mode } from '../policy/index.js';
import type { Metrics } from './metrics.js';
import type { PolicyStore } from './policy-store.js';

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

export interface AppDependencies {
  readonly logger: Logger;
  readonly store: PolicyStore;
  readonly metrics: Metrics;
  readonly readiness: () => Readiness;
  /** Pull-secret copies known to be missing (`namespace/name`), for admission warnings; none when not given. */
  readonly missingPullSecrets?: () => ReadonlySet<string>;
  /** Largest AdmissionReview accepted. Real reviews reach a few MiB (object and oldObject of a large Pod). */
  readonly bodyLimitBytes?: number;
}

type Webhook = 'mutate' | 'validate';
const handlers: Record<
  Webhook,
  (p: CompiledPolicy, r: AdmissionRequest, m: Mode, c: AdmissionContext) => AdmissionOutcome
> = {
  mutate,
  validate: (p, r, m) => validate(p, r, m),
};
const NOTHING_MISSING: ReadonlySet<string> = new Set();

/** An error whose message may go back to the client (HTTP 4xx). */
class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The webhook's routes. `POST /mutate` and `/validate` answer with the policy's mode; `/mutate/<mode>` and
 * `/validate/<mode>` with that mode, so webhook configurations can route labelled namespaces to another mode
 * without an API call per request. The apiserver appends `?timeout=10s`: routing looks at the path only.
 */
export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const json = express.json({
    limit: deps.bodyLimitBytes ?? 8 * 1024 * 1024,
    type: ['application/json', 'application/*+json'],
  });

  for (const webhook of ['mutate', 'validate'] as const) {
    app.post(`/${webhook}{/:mode}`, json, (req: Request, res: Response) => {
      const started = process.hrtime.bigint();
      const active = deps.store.active;
      if (active === null) throw new ClientError(503, 'no valid policy is loaded yet');
      const modeParam = req.params['mode'];
      if (typeof modeParam === 'string' && !(MODES as readonly string[]).includes(modeParam)) {
        throw new ClientError(
          404,
          `unknown mode "${modeParam}": use /${webhook}, or /${webhook}/ followed by one of ${MODES.join(', ')}`,
        );
      }
      if (req.body === undefined) throw new ClientError(400, 'Content-Type must be application/json');
      const review = readAdmissionReview(req.body);
      if (!review.ok) throw new ClientError(400, review.reason);
      const mode = (modeParam as Mode | undefined) ?? active.policy.spec.mode;
      const missingPullSecrets = deps.missingPullSecrets?.() ?? NOTHING_MISSING;
      const outcome = handlers[webhook](active.policy, review.request, mode, { missingPullSecrets });
      if (outcome.evaluation.kind === 'malformed') throw new ClientError(400, outcome.evaluation.reason);
      res.json(reviewResponse(outcome.response));
      record(deps, webhook, review.request, outcome, active.generation, started);
    });
  }

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const readiness = deps.readiness();
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new ClientError(404, 'not found')));
  // Three failures, three answers: malformed input is 4xx with the reason; a crash is 500, logged with its stack
  // (the apiserver then applies the webhook's failurePolicy).
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = httpStatusOf(err);
    deps.metrics.badRequests.inc({ status: String(status) });
    if (status >= 500) {
      deps.logger.error({ err, path: req.path }, 'request failed');
      res.status(500).json({ code: 500, message: 'internal error: see the server log' });
      return;
    }
    const message = clientMessage(err);
    deps.logger.warn({ status, path: req.path, reason: message }, 'bad request');
    res.status(status).json({ code: status, message });
  });
  return app;
}

/** Express 5 hands body-parser failures on with `status` set (400 bad JSON, 413 too large, 415 charset). */
function httpStatusOf(err: unknown): number {
  if (err instanceof ClientError) return err.status;
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/**
 * The reason sent back and logged for a 4xx. JSON.parse's errors quote a piece of the body (`Unexpected token 's',
 * "{"token": s3cr"... is not valid JSON`), and a body may carry a Secret: say where the JSON breaks, not what it says.
 */
function clientMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ClientError) return message;
  if (typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'entity.parse.failed') {
    const at = /at position (\d+)/.exec(message)?.[1];
    return `request body is not valid JSON${at === undefined ? '' : ` (at position ${at})`}`;
  }
  return message;
}

function record(
  deps: AppDependencies,
  webhook: Webhook,
  request: AdmissionRequest,
  outcome: AdmissionOutcome,
  generation: number,
  started: bigint,
): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  deps.metrics.latency.observe({ webhook }, seconds);
  deps.metrics.requests.inc({
    webhook,
    kind: request.kind.kind,
    operation: request.operation,
    decision: outcome.decision,
    mode: outcome.mode,
  });
  if (webhook === 'mutate' && outcome.mode !== 'audit') {
    for (const r of outcome.rewrites)
      deps.metrics.rewrites.inc({ source: r.source ?? '(short name)', mirror: r.mirror ?? '(none)' });
  }
  deps.logger.info(
    {
      webhook,
      uid: request.uid,
      kind: request.kind.kind,
      namespace: request.namespace,
      name: request.name,
      operation: request.operation,
      subResource: request.subResource || undefined,
      dryRun: request.dryRun,
      mode: outcome.mode,
      decision: outcome.decision,
      violations: outcome.violations.length > 0 ? outcome.violations : undefined,
      rewrites:
        outcome.rewrites.length > 0
          ? outcome.rewrites.map((r) => ({ from: r.from, to: r.to, at: r.location }))
          : undefined,
      policyGeneration: generation,
      ms: Math.round(seconds * 1e5) / 100,
    },
    'admission',
  );
}
