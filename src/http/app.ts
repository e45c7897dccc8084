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
import { clip, DecisionCache } from '../engine/index.js';
import type { Counter, Histogram, Registry } from 'prom-client';
import { MODES, type CompiledPolicy, type Mode } from '../policy/index.js';
import { readJsonBody, type BodyLimits } from './body.js';
import { BodyBudget } from './body-budget.js';
import { kindLabel, statusLabel } from './labels.js';
import { REQUEST_LIMITS, type RequestLimits } from './limits.js';
import { ClientError, bodyFacts, refusalHeaders } from './refusal.js';

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
  readonly shed: Counter<'reason'>;
  /** Read when /metrics is scraped: the bytes of admission bodies in flight. */
  inflightBodyBytesSource: () => number;
}

export interface AppDependencies {
  readonly logger: Logger;
  readonly store: PolicyInForce;
  readonly metrics: AppMetrics;
  readonly readiness: () => Readiness;
  /** Body size, in-flight bytes and body time limits (docs/reliability.md); REQUEST_LIMITS when absent. */
  readonly limits?: Partial<RequestLimits>;
  /** Namespace/secret pairs whose pull-secret copy is missing (pull-secret propagation); none when it is off. */
  readonly missingPullSecrets?: () => ReadonlySet<string>;
  /** Distinct image decisions remembered across requests (per policy generation); 0 turns the cache off. */
  readonly decisionCacheSize?: number;
  /** Asks mirrors (`verify`, `pin`), within the review's budget; absent: no mirror is ever asked. */
  readonly mirrors?: MirrorQuestions;
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
  const limits = { ...REQUEST_LIMITS, ...deps.limits };
  const body = { maxBytes: limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs };
  const budget = new BodyBudget(limits.maxInflightBytes);
  deps.metrics.inflightBodyBytesSource = () => budget.inFlight;
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
    answerAdmission(deps, { body, budget, decisions, mirrorMemo, admissionLog }, route, req, res).catch(
      (err: unknown) => fail(deps, req, res, err),
    );
  };
}

/** What the admission routes keep across requests. */
interface HotPath {
  readonly body: BodyLimits;
  readonly budget: BodyBudget;
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
      `unknown mode: use /${webhook}, or /${webhook}/ followed by one of ${MODES.join(', ')}`,
    );
  }
  if (deps.store.active === null) throw new ClientError(503, 'no valid policy is loaded yet');
  // The body's bytes count against the in-flight cap until its answer is written: deciding is where memory goes.
  const ticket = hot.budget.open();
  res.once('close', ticket.release);
  const body = await readJsonBody(req, hot.body, ticket);
  if (!body.ok) {
    if (body.status === 429) deps.metrics.shed.inc({ reason: 'inflight_bytes' });
    throw new ClientError(body.status, body.reason, bodyFacts(body.raw, body.received));
  }
  // Kept only to hash a body that turns out malformed; dropped once the request is known to be well-formed.
  let raw: Buffer | null = body.raw;
  const malformed = (reason: string): ClientError => new ClientError(400, reason, bodyFacts(raw, 0));
  // As express.json()'s strict mode did: a JSON text that is not an object or array is not a request body.
  if (typeof body.value !== 'object' || body.value === null) {
    throw malformed('request body is not valid JSON: an object or array is expected');
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
  if (!admission.ok) throw malformed(admission.reason);
  raw = null;
  sendJson(res, 200, admission.review);
  record(deps, hot.admissionLog, webhook, admission.request, admission.outcome, active.generation, started);
}

function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

/** Three failures, three answers: malformed input is 4xx with the reason; a crash is 500, logged with its stack
 * (the apiserver then applies the webhook's failurePolicy). */
function fail(deps: AppDependencies, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const status = httpStatusOf(err);
  deps.metrics.badRequests.inc({ status: statusLabel(status) });
  const path = clip((req.url ?? '/').split('?')[0] ?? '/', 64);
  if (status >= 500) {
    deps.logger.error({ err, path }, 'request failed');
    if (!res.headersSent) sendJson(res, 500, { code: 500, message: 'internal error: see the server log' });
    return;
  }
  // Our reasons name a field and what was expected, never a value; anything else is cut short.
  const message = clip(err instanceof Error ? err.message : String(err), 256);
  const body = err instanceof ClientError ? err.body : undefined;
  deps.logger.warn({ status, path, reason: message, ...body }, 'bad request');
  if (!res.headersSent) sendJson(res, status, { code: status, message }, refusalHeaders(status));
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

const LOGGED_ITEMS = 20;

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
    kind: kindLabel(request.kind.group, request.kind.kind),
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
      // The first few of each, and how many: a line per container would make one Pod a megabyte of log.
      violations: outcome.violations.length > 0 ? outcome.violations.slice(0, LOGGED_ITEMS) : undefined,
      violationCount: outcome.violations.length > 0 ? outcome.violations.length : undefined,
      rewrites:
        outcome.rewrites.length > 0
          ? outcome.rewrites
              .slice(0, LOGGED_ITEMS)
              .map((r) => ({ from: clip(r.from, 300), to: r.to, at: r.location }))
          : undefined,
      rewriteCount: outcome.rewrites.length > 0 ? outcome.rewrites.length : undefined,
      policyGeneration: generation,
      ms: Math.round(seconds * 1e5) / 100,
    },
    'admission',
  );
}
