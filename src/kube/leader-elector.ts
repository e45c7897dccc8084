import { CoordinationV1Api, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  nextLeaseStep,
  observe,
  releasedRecord,
  type LeaseObservation,
  type LeaseRecord,
} from '../leader/lease.js';
import { describeApiError, statusOf } from './api-error.js';

export interface LeaderElectorOptions {
  readonly api: CoordinationV1Api;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  /** A leader that has not renewed for this long stops acting as leader (shorter than the lease). */
  readonly renewDeadlineMs: number;
  /** How often candidates try and the leader renews. */
  readonly retryPeriodMs: number;
  readonly logger: Logger;
  readonly onChange: (leading: boolean) => void;
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease. @kubernetes/client-node 1.4 has none (client-go's
 * leaderelection package has no JavaScript port in it), so this is the small loop client-go runs: read the Lease,
 * decide with the pure steps of src/leader/lease.ts, write with the resourceVersion read (optimistic
 * concurrency: a 409 means another candidate won), and release the Lease on a clean stop so the next replica
 * takes over at its next try instead of after the lease duration.
 */
export class LeaderElector {
  private observation: LeaseObservation | null = null;
  private leading = false;
  private lastRenewMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: LeaderElectorOptions) {}

  /**
   * True only while the last renewal is younger than the renew deadline: a leader cut off from the apiserver stops
   * writing before another replica can take the Lease over (renewDeadline < leaseDuration).
   */
  get isLeader(): boolean {
    return this.leading && Date.now() - this.lastRenewMs < this.options.renewDeadlineMs;
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tryOnce().finally(() => this.schedule(this.options.retryPeriodMs));
    }, delayMs);
  }

  private async tryOnce(): Promise<void> {
    const { api, namespace, name, logger } = this.options;
    try {
      const lease = await this.read();
      const now = Date.now();
      this.observation = lease === null ? null : observe(this.observation, lease, now);
      const step = nextLeaseStep(this.observation, this.candidate(), now);
      if (step.kind === 'wait') {
        this.setLeading(false);
        return;
      }
      const body = this.toLease(step.record, lease?.resourceVersion);
      const written =
        step.kind === 'create'
          ? await api.createNamespacedLease({ namespace, body })
          : await api.replaceNamespacedLease({ namespace, name, body });
      this.observation = observe(
        null,
        { record: step.record, resourceVersion: written.metadata?.resourceVersion ?? '' },
        now,
      );
      this.lastRenewMs = now;
      if (step.kind === 'acquire')
        logger.info(
          { lease: `${namespace}/${name}`, previousHolder: step.previousHolder || null },
          'lease acquired',
        );
      this.setLeading(true);
    } catch (err) {
      // 409: another candidate wrote first; anything else: the apiserver is unreachable or refuses. Either way keep
      // trying; a leader steps down once its renew deadline has passed (isLeader already says false then).
      if (statusOf(err) !== 409)
        logger.warn({ lease: `${namespace}/${name}`, error: describeApiError(err) }, 'lease update failed');
      if (this.leading && Date.now() - this.lastRenewMs >= this.options.renewDeadlineMs)
        this.setLeading(false);
    }
  }

  private candidate(): { identity: string; leaseDurationSeconds: number } {
    return { identity: this.options.identity, leaseDurationSeconds: this.options.leaseDurationSeconds };
  }

  private async read(): Promise<{ record: LeaseRecord; resourceVersion: string } | null> {
    const { api, namespace, name } = this.options;
    try {
      const lease = await api.readNamespacedLease({ namespace, name });
      const spec = lease.spec ?? {};
      return {
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        record: {
          holder: spec.holderIdentity ?? '',
          leaseDurationSeconds: spec.leaseDurationSeconds ?? this.options.leaseDurationSeconds,
          acquireTimeMs: spec.acquireTime ? new Date(spec.acquireTime).getTime() : null,
          renewTimeMs: spec.renewTime ? new Date(spec.renewTime).getTime() : null,
          transitions: spec.leaseTransitions ?? 0,
        },
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  private toLease(record: LeaseRecord, resourceVersion: string | undefined): V1Lease {
    const { namespace, name } = this.options;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace, name, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: record.holder,
        leaseDurationSeconds: record.leaseDurationSeconds,
        leaseTransitions: record.transitions,
        ...(record.acquireTimeMs === null ? {} : { acquireTime: new V1MicroTime(record.acquireTimeMs) }),
        ...(record.renewTimeMs === null ? {} : { renewTime: new V1MicroTime(record.renewTimeMs) }),
      },
    };
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (!leading)
      this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}` }, 'not leading');
    this.options.onChange(leading);
  }

  /** Stops trying; a leader releases the Lease (best effort) so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (!this.leading || this.observation === null) return;
    const { api, namespace, name, logger } = this.options;
    this.setLeading(false);
    try {
      const released = releasedRecord(this.observation.record, Date.now());
      await api.replaceNamespacedLease({
        namespace,
        name,
        body: this.toLease(released, this.observation.resourceVersion),
      });
      logger.info({ lease: `${namespace}/${name}` }, 'lease released');
    } catch (err) {
      logger.warn(
        { lease: `${namespace}/${name}`, error: describeApiError(err) },
        'could not release the lease; it expires on its own',
      );
    }
  }
}
