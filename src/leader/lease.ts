/**
 * The decisions of leader election through a `coordination.k8s.io/v1` Lease, as pure functions (the loop that
 * reads and writes the Lease is src/kube/leader-elector.ts). They follow client-go's leaderelection package:
 * - a Lease is free when it has no holder or when it has not changed for `leaseDurationSeconds` **as measured by
 *   this process's clock since it first saw the current version**: comparing `renewTime` with the local clock would
 *   let a skewed clock steal a live lease;
 * - writes carry the resourceVersion read, so of two candidates that both see a free Lease only one wins;
 * - a leader that cannot renew within its renew deadline stops acting as leader before the lease runs out.
 */
export interface LeaseRecord {
  /** Empty when released. */
  readonly holder: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTimeMs: number | null;
  readonly renewTimeMs: number | null;
  readonly transitions: number;
}

/** A Lease as read, and when this process first saw that version of it. */
export interface LeaseObservation {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
  readonly observedAtMs: number;
}

export type LeaseStep =
  | { readonly kind: 'create'; readonly record: LeaseRecord }
  | { readonly kind: 'renew'; readonly record: LeaseRecord }
  | { readonly kind: 'acquire'; readonly record: LeaseRecord; readonly previousHolder: string }
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresInMs: number };

export interface Candidate {
  readonly identity: string;
  readonly leaseDurationSeconds: number;
}

/** What a candidate does next, given the Lease as last observed (null: there is none yet). */
export function nextLeaseStep(current: LeaseObservation | null, me: Candidate, nowMs: number): LeaseStep {
  if (current === null) {
    return {
      kind: 'create',
      record: {
        holder: me.identity,
        leaseDurationSeconds: me.leaseDurationSeconds,
        acquireTimeMs: nowMs,
        renewTimeMs: nowMs,
        transitions: 0,
      },
    };
  }
  const { record } = current;
  if (record.holder === me.identity) {
    return {
      kind: 'renew',
      record: { ...record, leaseDurationSeconds: me.leaseDurationSeconds, renewTimeMs: nowMs },
    };
  }
  const expiresInMs = current.observedAtMs + record.leaseDurationSeconds * 1000 - nowMs;
  if (record.holder !== '' && expiresInMs > 0) return { kind: 'wait', holder: record.holder, expiresInMs };
  return {
    kind: 'acquire',
    previousHolder: record.holder,
    record: {
      holder: me.identity,
      leaseDurationSeconds: me.leaseDurationSeconds,
      acquireTimeMs: nowMs,
      renewTimeMs: nowMs,
      transitions: record.transitions + 1,
    },
  };
}

/**
 * The record a leader writes when it stops on purpose: no holder, so the next candidate takes over at its next
 * try instead of waiting out the lease (client-go's ReleaseOnCancel).
 */
export function releasedRecord(record: LeaseRecord, nowMs: number): LeaseRecord {
  return { ...record, holder: '', leaseDurationSeconds: 1, renewTimeMs: nowMs };
}

/**
 * Keeps the observation time of a Lease version: a new version (another resourceVersion) restarts the clock,
 * the same version keeps the time it was first seen.
 */
export function observe(
  previous: LeaseObservation | null,
  read: { readonly record: LeaseRecord; readonly resourceVersion: string },
  nowMs: number,
): LeaseObservation {
  if (previous !== null && previous.resourceVersion === read.resourceVersion) return previous;
  return { ...read, observedAtMs: nowMs };
}
