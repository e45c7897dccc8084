import { readFile } from 'node:fs/promises';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { createApp } from '../http/app.js';
import { REQUEST_LIMITS, type RequestLimits } from '../http/limits.js';
import {
  ensureDevelopmentCertificates,
  readServingCertificate,
  type ServingCertificate,
} from '../certs/files.js';
import { watchFile } from './file-watch.js';
import { Metrics } from './metrics.js';
import { PolicyStore, type ReloadResult } from './policy-store.js';
import { startServer } from '../http/server.js';
import { DEFAULT_POLICY_YAML, unrestrictedReason } from '../policy/index.js';
import { DEFAULT_MIRROR_OPTIONS, MirrorVerification, type MirrorOptions } from './mirror-verification.js';
import { Propagation, type PullSecretOptions } from './pull-secret-propagation.js';

export type { PullSecretOptions } from './pull-secret-propagation.js';
export { REQUEST_LIMITS } from '../http/limits.js';

export interface ServeOptions {
  readonly policyFile: string | null;
  readonly host: string;
  readonly port: number;
  readonly certDir: string;
  /** How often the policy and certificate files are checked for changes. */
  readonly reloadIntervalMs: number;
  /** Stay in service this long after SIGTERM (readiness already false) so endpoints are removed first. */
  readonly shutdownDelayMs: number;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Used only once the policy has an entry with `from`; without it such entries are reported and ignored. */
  readonly pullSecrets?: PullSecretOptions;
  /** How mirrors are asked (`verify`, `pin`) and how often their credentials are checked; defaults otherwise. */
  readonly mirrors?: MirrorOptions & { readonly healthIntervalMs: number };
  /** Body size, in-flight bytes and body time limits; REQUEST_LIMITS for what is not given. */
  readonly limits?: Partial<RequestLimits>;
  /** Refuse (at start and on reload) a policy that restricts no registry. */
  readonly requireRestriction?: boolean;
}

export interface Webhook {
  readonly port: number;
  readonly store: PolicyStore;
  readonly metrics: Metrics;
  /** Graceful stop: not ready at once, then drain in-flight requests. */
  stop(): Promise<void>;
}

/** Why the server cannot start, with a stable code; `details` lists every problem (a policy's errors). */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly code: 'POLICY_INVALID' | 'POLICY_UNREADABLE' | 'MIRROR_CA_UNREADABLE',
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * Wires the webhook: policy (file or built-in) -> certificates (generated when missing) -> app -> HTTPS server,
 * with both files watched. Refuses to start on an invalid policy, naming every error.
 */
export async function startWebhook(options: ServeOptions): Promise<Webhook> {
  const { logger } = options;
  const metrics = options.metrics ?? new Metrics();
  const store = new PolicyStore({ requireRestriction: options.requireRestriction === true });
  const origin = options.policyFile ?? 'built-in default';
  const text = options.policyFile === null ? DEFAULT_POLICY_YAML : await readPolicyFile(options.policyFile);
  if (options.mirrors?.caFile != null) await checkCaFile(options.mirrors.caFile);
  const first = store.offer(text, origin);
  if (first.result === 'rejected')
    throw new StartupError(`invalid policy ${origin}`, 'POLICY_INVALID', first.errors);
  const propagation = new Propagation(options, metrics);
  const mirrors = new MirrorVerification(
    { ...DEFAULT_MIRROR_OPTIONS, ...options.mirrors },
    options.pullSecrets
      ? { kubeconfig: options.pullSecrets.kubeconfig, namespace: options.pullSecrets.namespace }
      : null,
    options.mirrors?.healthIntervalMs ?? 60_000,
    logger,
    metrics,
  );
  const onReload = (result: ReloadResult, from: string): void => {
    noteReload(result, from, logger, metrics);
    if (result.result === 'applied') {
      propagation.follow(result.active.policy.spec);
      // Not awaited: a slow mirror must not hold up the start or a reload; /readyz says "not checked yet".
      void mirrors.follow(result.active.policy);
    }
  };
  onReload(first, origin);
  // spec.sources.openshift: follow the cluster's Image, ICSPs, IDMSes and ITMSes (decided at start).
  // Imported only when asked for: the Kubernetes client costs a server that never calls the API 0.6 s and ~70 MB.
  const live = store.active?.policy.spec.sources.openshift
    ? (await import('./openshift-live.js')).startOpenShiftLive({
        store,
        baseText: text,
        origin,
        logger,
        report: onReload,
        droppedGauge: metrics.openshiftDroppedEntries,
      })
    : null;
  if (options.policyFile === null) {
    logger.warn(
      'serving the built-in default policy (mirror registry.internal); pass --policy FILE to use yours',
    );
  }

  if (await ensureDevelopmentCertificates(options.certDir)) {
    logger.info({ certDir: options.certDir }, 'generated a development CA and serving certificate');
  }
  let certificate = await readServingCertificate(options.certDir);
  metrics.certificateExpiry.set(certificate.notAfter.getTime() / 1000);

  let stopping = false;
  const app = createApp({
    logger,
    store,
    metrics,
    missingPullSecrets: () => propagation.missing(),
    mirrors,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    readiness: () => {
      const checks = {
        policy: store.active
          ? `generation ${store.active.generation} from ${store.active.origin}`
          : 'none loaded',
        certificate: `valid until ${certificate.notAfter.toISOString()}`,
        shutdown: stopping ? 'draining' : 'no',
        ...propagation.readiness(),
        ...mirrors.readiness(),
        openshift: live === null ? 'off' : live.ready() ? 'synced' : 'waiting for the first sync',
      };
      return { ready: store.active !== null && !stopping && (live === null || live.ready()), checks };
    },
  });
  const server = await startServer(app, { host: options.host, port: options.port, certificate });
  // The limits and the heap they must fit in, side by side: docs/reliability.md "Limits" relates the two.
  const limits = { ...REQUEST_LIMITS, ...options.limits };
  const heapLimitMiB = Math.round(getHeapStatistics().heap_size_limit / 1024 / 1024);
  logger.info(
    { host: options.host, port: server.port, policy: origin, ...limits, heapLimitMiB },
    'registry-gate serving',
  );

  const watchers = [
    ...(options.policyFile === null
      ? []
      : [
          watchFile(
            options.policyFile,
            options.reloadIntervalMs,
            (next) => (live === null ? onReload(store.offer(next, origin), origin) : live.offerBase(next)),
            (err) =>
              logger.error(
                { err, file: options.policyFile },
                'cannot read the policy file; the last good policy stays',
              ),
          ),
        ]),
    watchCertificate(
      options.certDir,
      options.reloadIntervalMs,
      () => certificate,
      (next) => {
        certificate = next;
        server.useCertificate(next);
        metrics.certificateExpiry.set(next.notAfter.getTime() / 1000);
        logger.info({ notAfter: next.notAfter.toISOString() }, 'serving certificate reloaded');
      },
      logger,
    ),
  ];

  return {
    port: server.port,
    store,
    metrics,
    async stop() {
      stopping = true;
      for (const w of watchers) w.stop();
      await live?.stop();
      await propagation.stop();
      await mirrors.stop();
      if (options.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, options.shutdownDelayMs));
      await server.drain(25_000);
      logger.info('registry-gate stopped');
    },
  };
}

/** A `--mirror-ca-file` that cannot be used is a start-up error, not a surprise at the first look-up. */
async function checkCaFile(path: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new StartupError(
      `cannot read --mirror-ca-file ${path}: ${err instanceof Error ? err.message : String(err)}`,
      'MIRROR_CA_UNREADABLE',
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new StartupError(`--mirror-ca-file ${path} holds no PEM certificate`, 'MIRROR_CA_UNREADABLE');
}

async function readPolicyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new StartupError(
      `cannot read policy file ${path}: ${err instanceof Error ? err.message : String(err)}`,
      'POLICY_UNREADABLE',
    );
  }
}

function noteReload(result: ReloadResult, origin: string, logger: Logger, metrics: Metrics): void {
  if (result.result === 'unchanged') return;
  metrics.policyReloads.inc({ result: result.result });
  if (result.result === 'applied') {
    metrics.policyGeneration.set(result.active.generation);
    metrics.policyLastReloadFailed.set(0);
    logger.info(
      { origin, generation: result.active.generation, policy: result.active.policy.spec.name },
      'policy applied',
    );
    const unrestricted = unrestrictedReason(result.active.policy.spec);
    metrics.policyUnrestricted.set(unrestricted === null ? 0 : 1);
    if (unrestricted !== null) {
      logger.warn(
        { origin, generation: result.active.generation },
        `${unrestricted}; pass --require-restriction to refuse such a policy`,
      );
    }
  } else {
    metrics.policyLastReloadFailed.set(1);
    logger.error(
      { origin, errors: result.errors, generationInForce: result.active?.generation ?? null },
      'policy rejected; the last good policy stays in force',
    );
  }
}

function watchCertificate(
  dir: string,
  intervalMs: number,
  current: () => ServingCertificate,
  onChange: (c: ServingCertificate) => void,
  logger: Logger,
): { stop(): void } {
  const timer = setInterval(() => {
    readServingCertificate(dir).then(
      (next) => {
        if (next.cert !== current().cert || next.key !== current().key) onChange(next);
      },
      // Mid-rotation the files may not match for a moment: keep serving the old pair and look again.
      (err: unknown) =>
        logger.debug(
          { err: err instanceof Error ? err.message : String(err) },
          'certificate files not usable yet',
        ),
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
