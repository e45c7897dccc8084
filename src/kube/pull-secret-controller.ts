import {
  CoordinationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  type KubeConfig,
  type V1Namespace,
  type V1Secret,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PullSecretMetrics } from './pull-secret-metrics.js';
import type { RegistryPolicy } from '../policy/index.js';
import { COPY_SELECTOR } from '../pull-secrets/labels.js';
import { planCopies, type CopyAction } from '../pull-secrets/reconcile.js';
import { refKey, type SecretSnapshot } from '../pull-secrets/types.js';
import { propagations, type Propagation } from '../pull-secrets/wanted.js';
import { describeApiError } from './api-error.js';
import { namespaceSnapshot, secretSnapshot, watch, type Watched } from './informers.js';
import { LeaderElector } from './leader-elector.js';
import { SourceReport } from './pull-secret-report.js';
import { PullSecretWriter } from './pull-secret-writer.js';
import { RecentWrites } from './recent-writes.js';

export interface PullSecretControllerOptions {
  readonly kubeConfig: KubeConfig;
  /** The gate's namespace: never holds copies, holds the Lease. */
  readonly namespace: string;
  /** This replica's name in the Lease (the Pod name in a cluster). */
  readonly identity: string;
  readonly leaseName: string;
  readonly leaseDurationSeconds: number;
  readonly logger: Logger;
  readonly metrics: PullSecretMetrics;
  /** A full pass even without events, to retry what failed and re-check conflicts. */
  readonly resyncIntervalMs?: number;
}

/**
 * Keeps a copy of every `pullSecrets[].from` source in every covered namespace. Every replica watches namespaces,
 * sources and copies (so each knows which copies are missing, for admission warnings, and a new leader starts
 * from a warm cache); only the holder of the Lease writes. It reacts to informer events, to policy changes, and
 * to a periodic resync; each pass recomputes the whole plan (src/pull-secrets/reconcile.ts), so a missed event or
 * a failed write is repaired by the next one. Nothing here runs because of an admission request.
 */
export class PullSecretController {
  private wanted: readonly Propagation[] = [];
  private exemptNamespaces: readonly string[] = [];
  private readonly core: CoreV1Api;
  private readonly writer: PullSecretWriter;
  private readonly elector: LeaderElector;
  private readonly namespaces: Watched<V1Namespace>;
  private readonly copies: Watched<V1Secret>;
  private readonly sources = new Map<string, Watched<V1Secret>>();
  private readonly recent = new RecentWrites(10_000);
  private missingCopies: ReadonlySet<string> = new Set();
  private readonly report: SourceReport;
  private conflicts = new Set<string>();
  private pass: Promise<void> | null = null;
  private again = false;
  private debounce: NodeJS.Timeout | null = null;
  private readonly resync: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: PullSecretControllerOptions) {
    const { kubeConfig: kc, logger } = options;
    this.core = kc.makeApiClient(CoreV1Api);
    this.writer = new PullSecretWriter(this.core, KubernetesObjectApi.makeApiClient(kc));
    this.report = new SourceReport(logger, options.metrics);
    const onEvent = (): void => this.requestPass();
    this.namespaces = watch<V1Namespace>(kc, '/api/v1/namespaces', () => this.core.listNamespace(), {
      onEvent,
      logger,
    });
    this.copies = watch<V1Secret>(
      kc,
      '/api/v1/secrets',
      () => this.core.listSecretForAllNamespaces({ labelSelector: COPY_SELECTOR }),
      { labelSelector: COPY_SELECTOR, onEvent, logger },
    );
    this.elector = new LeaderElector({
      api: kc.makeApiClient(CoordinationV1Api),
      namespace: options.namespace,
      name: options.leaseName,
      identity: options.identity,
      leaseDurationSeconds: options.leaseDurationSeconds,
      renewDeadlineMs: Math.max(1_000, options.leaseDurationSeconds * 1000 * (2 / 3)),
      retryPeriodMs: Math.max(500, (options.leaseDurationSeconds * 1000) / 7.5),
      logger,
      onChange: (leading) => {
        options.metrics.pullSecretLeader.set(leading ? 1 : 0);
        if (leading) {
          logger.info({ identity: options.identity }, 'leading: this replica writes pull-secret copies');
          this.requestPass();
        }
      },
    });
    this.elector.start();
    this.resync = setInterval(() => {
      this.conflicts = new Set();
      this.requestPass();
    }, options.resyncIntervalMs ?? 60_000);
    this.resync.unref();
  }

  /** Follows the policy in force: the propagations it asks for and the namespaces it exempts. */
  setPolicy(spec: RegistryPolicy): void {
    this.wanted = propagations(spec);
    this.exemptNamespaces = spec.exemptions.namespaces;
    const needed = new Set(this.wanted.map((p) => p.from.namespace));
    for (const [ns, w] of this.sources) {
      if (!needed.has(ns)) {
        void w.stop();
        this.sources.delete(ns);
      }
    }
    for (const ns of needed) {
      if (this.sources.has(ns)) continue;
      this.sources.set(
        ns,
        watch<V1Secret>(
          this.options.kubeConfig,
          `/api/v1/namespaces/${ns}/secrets`,
          () => this.core.listNamespacedSecret({ namespace: ns }),
          { onEvent: () => this.requestPass(), logger: this.options.logger },
        ),
      );
    }
    this.requestPass();
  }

  /** `namespace/secretName` of copies that should exist and do not: read by the admission layer, per request. */
  get missing(): ReadonlySet<string> {
    return this.missingCopies;
  }

  get leading(): boolean {
    return this.elector.isLeader;
  }

  /** One line for `/readyz`: who writes, and what is wrong with the sources. Never affects readiness. */
  status(): string {
    return this.report.line(this.elector.isLeader, this.missingCopies.size);
  }

  private requestPass(): void {
    if (this.stopped) return;
    if (this.debounce) return;
    // Events come in bursts (a relist, a namespace and its default ServiceAccount): one pass for the burst.
    this.debounce = setTimeout(() => {
      this.debounce = null;
      if (this.pass) {
        this.again = true;
        return;
      }
      this.pass = this.runPass()
        .catch((err: unknown) => this.options.logger.error({ err }, 'pull-secret pass failed'))
        .finally(() => {
          this.pass = null;
          if (this.again) {
            this.again = false;
            this.requestPass();
          }
        });
    }, 50);
  }

  private async runPass(): Promise<void> {
    await Promise.all([
      this.namespaces.synced,
      this.copies.synced,
      ...[...this.sources.values()].map((w) => w.synced),
    ]);
    const sources = new Map<string, SecretSnapshot>();
    for (const p of this.wanted) {
      const s = this.sources.get(p.from.namespace)?.get(p.from.name, p.from.namespace);
      if (s) sources.set(refKey(p.from), secretSnapshot(s));
    }
    const plan = planCopies({
      propagations: this.wanted,
      sources,
      namespaces: this.namespaces.list().map(namespaceSnapshot),
      copies: this.recent.overlay(
        this.copies
          .list()
          .map((s) => ({ snapshot: secretSnapshot(s), resourceVersion: s.metadata?.resourceVersion ?? '' })),
      ),
      coverage: { gateNamespace: this.options.namespace, exemptNamespaces: this.exemptNamespaces },
    });
    this.missingCopies = new Set([...plan.missing].filter((k) => !this.conflicts.has(k)));
    this.options.metrics.pullSecretCopiesMissing.set(this.missingCopies.size);
    this.report.note(plan.sources);
    if (!this.elector.isLeader || this.stopped) return;
    let failed = 0;
    // A name taken by a Secret the gate did not make stays taken until the periodic pass looks again.
    const actions = plan.actions.filter((a) => a.kind !== 'create' || !this.conflicts.has(refKey(a.copy)));
    for (const action of actions) {
      if (!this.elector.isLeader) return; // lost the Lease mid-pass: the new leader carries on
      if (!(await this.carryOut(action))) failed++;
    }
    if (failed > 0) setTimeout(() => this.requestPass(), 2_000).unref();
  }

  private async carryOut(action: CopyAction): Promise<boolean> {
    const ref = action.kind === 'delete' ? action.ref : action.copy;
    const log = {
      namespace: ref.namespace,
      name: ref.name,
      ...(action.kind === 'delete'
        ? { why: action.why }
        : {
            source: refKey(action.copy.source),
            ...(action.kind === 'update' ? { changed: action.changed } : {}),
          }),
    };
    const before = this.copies.get(ref.name, ref.namespace)?.metadata?.resourceVersion ?? null;
    try {
      const result = await this.writer.carryOut(
        action,
        (ns, name) => this.copies.get(name, ns)?.metadata?.uid,
      );
      if (result === 'gone') return true;
      this.options.metrics.pullSecretCopies.inc({ result });
      if (result === 'conflict') {
        this.conflicts.add(refKey(ref));
        this.options.logger.warn(
          log,
          'a Secret of that name not managed by registry-gate exists; left untouched',
        );
        return true;
      }
      if (action.kind === 'delete') this.recent.deleted(action.ref, before);
      else this.recent.written(action.copy, before);
      this.options.logger.info(log, `pull secret copy ${result}`);
      return true;
    } catch (err) {
      this.options.metrics.pullSecretCopies.inc({ result: 'failed' });
      this.options.logger.error(
        { ...log, error: describeApiError(err) },
        'pull secret copy failed; retrying',
      );
      return false;
    }
  }

  /** Stops watching and releases the Lease, so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resync);
    if (this.debounce) clearTimeout(this.debounce);
    await this.pass;
    await this.elector.stop();
    this.options.metrics.pullSecretLeader.set(0);
    await Promise.all([
      this.namespaces.stop(),
      this.copies.stop(),
      ...[...this.sources.values()].map((w) => w.stop()),
    ]);
  }
}
