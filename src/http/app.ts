import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import {
  admit,
  MirrorMemo,
  type AdmissionOutcome,
  type AdmissionRequest,
  type MirrorQuestions,
  type Webhook,
} from '../admission/index.js';
import { DecisionCache } from '../engine/index.js';
import type { Counter, Histogram, Registry } from 'prom-client';
import { MODES, type CompiledPolicy, type Mode } from '../policy/index.js';
import { readJsonBody } from './body.js';

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

/** The policy in force, read once per request (the server's PolicyStore). */
export interface PolicyInForce {
  readonly active: { readonly policy: CompiledPolicy; readonly generation: number } | null;
}

/** What the app counts and serves on `/metrics` (the server's Metrics, src/runtime/metrics.ts, has it). */
export interface AppMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'webhook' | 'kind' | 'operation' | 'decision' | 'mode'>;
  readonly rewrites: Counter<'source' | 'mirror'>;
  readonly latency: Histogram<'webhook'>;
  readonly badRequests: Counter<'status'>;
}

export interface AppDependencies {
  readonly logger: Logger;
  readonly store: PolicyInForce;
  readonly metrics: AppMetrics;
  readonly readiness: () => Readiness;
  /** Largest AdmissionReview accepted. Real reviews reach a few MiB (object and oldObject of a large Pod). */
  readonly bodyLimitBytes?: number;
  /** Namespace/secret pairs whose pull-secret copy is missing (pull-secret propagation); none when it is off. */
  readonly missingPullSecrets?: () => ReadonlySet<string>;
  /** Distinct image decisions remembered across requests (per policy generation); 0 turns the cache off. */
  readonly decisionCacheSize?: number;
  /** Asks mirrors (`verify`, `pin`), within the review's budget; absent: no mirror is ever asked. */
  readonly mirrors?: MirrorQuestions;
}

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
 *
 * The two admission routes are the hot path and are served straight from node:http (a bounded body read, one
 * JSON.parse, one JSON.stringify): the profile showed express's router, request decoration and body-parser costing
 * more per review than the policy decision. Health, readiness, metrics and every other path stay on express.
 */
export function createApp(deps: AppDependencies): RequestListener {
  const limit = deps.bodyLimitBytes ?? 8 * 1024 * 1024;
  const rest = createColdRoutes(deps);
  const cacheSize = deps.decisionCacheSize ?? 4096;
  const decisions = cacheSize > 0 ? new DecisionCache(cacheSize) : null;
  const mirrorMemo = new MirrorMemo();
  // The admission line carries only request identity, codes and image names, never an object body or a Secret:
  // the redaction paths (wildcards, searched on every line) cost it a third of its logging time for nothing.
  const admissionLog = deps.logger.child({}, { redact: [] });
  return (req, res) => {
    const route = req.method === 'POST' ? admissionRoute(req.url ?? '/') : null;
    if (route === null) {
      rest(req, res);
      return;
    }
    answerAdmission(deps, { limit, decisions, mirrorMemo, admissionLog }, route, req, res).catch(
      (err: unknown) => fail(deps, req, res, err),
    );
  };
}

/** What the admission routes keep across requests. */
interface HotPath {
  readonly limit: number;
  readonly decisions: DecisionCache | null;
  readonly mirrorMemo: MirrorMemo;
  readonly admissionLog: Logger;
}

interface AdmissionRoute {
  readonly webhook: Webhook;
  readonly mode: string | undefined;
}

const ADMISSION_PATH = /^\/(mutate|validate)(?:\/([^/]+))?\/?$/i;

/** `/mutate`, `/validate/warn`, `/MUTATE/` (express's routing was case-insensitive and allowed one trailing slash). */
function admissionRoute(url: string): AdmissionRoute | null {
  const q = url.indexOf('?');
  const match = ADMISSION_PATH.exec(q === -1 ? url : url.slice(0, q));
  if (match === null) return null;
  let mode: string | undefined;
  try {
    mode = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  } catch {
    mode = match[2];
  }
  return { webhook: match[1]!.toLowerCase() as Webhook, mode };
}

async function answerAdmission(
  deps: AppDependencies,
  hot: HotPath,
  route: AdmissionRoute,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { webhook, mode: modeParam } = route;
  if (modeParam !== undefined && !(MODES as readonly string[]).includes(modeParam)) {
    throw new ClientError(
      404,
      `unknown mode "${modeParam}": use /${webhook}, or /${webhook}/ followed by one of ${MODES.join(', ')}`,
    );
  }
  if (deps.store.active === null) throw new ClientError(503, 'no valid policy is loaded yet');
  const body = await readJsonBody(req, hot.limit);
  if (!body.ok) throw new ClientError(body.status, body.reason);
  // As express.json()'s strict mode did: a JSON text that is not an object or array is not a request body.
  if (typeof body.value !== 'object' || body.value === null) {
    throw new ClientError(400, 'request body is not valid JSON: an object or array is expected');
  }
  const started = process.hrtime.bigint();
  // The policy in force when the body arrived answers the request, even if a reload lands meanwhile.
  const active = deps.store.active;
  if (active === null) throw new ClientError(503, 'no valid policy is loaded yet');
  const admission = await admit(webhook, body.value, {
    policy: active.policy,
    mode: modeParam as Mode | undefined,
    missingPullSecrets: deps.missingPullSecrets?.(),
    decide: hot.decisions?.for(active.generation, active.policy),
    mirrors: deps.mirrors,
    mirrorMemo: hot.mirrorMemo,
  });
  if (!admission.ok) throw new ClientError(400, admission.reason);
  sendJson(res, 200, admission.review);
  record(deps, hot.admissionLog, webhook, admission.request, admission.outcome, active.generation, started);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Three failures, three answers: malformed input is 4xx with the reason; a crash is 500, logged with its stack
 * (the apiserver then applies the webhook's failurePolicy). */
function fail(deps: AppDependencies, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const status = httpStatusOf(err);
  deps.metrics.badRequests.inc({ status: String(status) });
  const path = (req.url ?? '/').split('?')[0];
  if (status >= 500) {
    deps.logger.error({ err, path }, 'request failed');
    if (!res.headersSent) sendJson(res, 500, { code: 500, message: 'internal error: see the server log' });
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  deps.logger.warn({ status, path, reason: message }, 'bad request');
  if (!res.headersSent) sendJson(res, status, { code: status, message });
}

/** Health, readiness, metrics and not-found: rare requests, where express's conveniences cost nothing that matters. */
function createColdRoutes(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
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
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => fail(deps, req, res, err));
  return app;
}

/** A ClientError carries its status; errors from express or node may carry a 4xx/5xx `status` too. */
function httpStatusOf(err: unknown): number {
  if (err instanceof ClientError) return err.status;
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function record(
  deps: AppDependencies,
  log: Logger,
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
    // One increment per distinct source and mirror (a 50-container Pod rewrites through three or four).
    const counts = new Map<string, { source: string; mirror: string; n: number }>();
    for (const r of outcome.rewrites) {
      const source = r.source ?? '(short name)';
      const mirror = r.mirror ?? '(none)';
      const key = `${source}\n${mirror}`;
      const seen = counts.get(key);
      if (seen === undefined) counts.set(key, { source, mirror, n: 1 });
      else seen.n++;
    }
    for (const { source, mirror, n } of counts.values()) deps.metrics.rewrites.inc({ source, mirror }, n);
  }
  log.info(
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
