import type { DesiredCopy } from '../pull-secrets/reconcile.js';
import { refKey, type SecretRef, type SecretSnapshot } from '../pull-secrets/types.js';

/**
 * What this replica wrote in the last few seconds, laid over the informer's view until the watch catches up:
 * without it, the pass right after a write would plan the same write again and count it twice.
 */
export class RecentWrites {
  private readonly writes = new Map<string, { copy: SecretSnapshot | null; at: number }>();

  constructor(private readonly ttlMs: number) {}

  written(copy: DesiredCopy): void {
    this.writes.set(refKey(copy), {
      copy: {
        namespace: copy.namespace,
        name: copy.name,
        type: copy.type,
        data: copy.data,
        labels: copy.labels,
        annotations: copy.annotations,
      },
      at: Date.now(),
    });
  }

  deleted(ref: SecretRef): void {
    this.writes.set(refKey(ref), { copy: null, at: Date.now() });
  }

  /** The informer's copies with recent writes applied over them. */
  overlay(copies: readonly SecretSnapshot[]): SecretSnapshot[] {
    const now = Date.now();
    for (const [key, w] of this.writes) if (now - w.at > this.ttlMs) this.writes.delete(key);
    const byKey = new Map(copies.map((c) => [refKey(c), c]));
    for (const [key, w] of this.writes) {
      if (w.copy === null) byKey.delete(key);
      else byKey.set(key, { ...w.copy, labels: { ...byKey.get(key)?.labels, ...w.copy.labels } });
    }
    return [...byKey.values()];
  }
}
