import type { DesiredCopy } from '../pull-secrets/reconcile.js';
import { refKey, type SecretRef, type SecretSnapshot } from '../pull-secrets/types.js';

/** A copy as the informer holds it, with the version that tells whether it has seen a write yet. */
export interface CachedCopy {
  readonly snapshot: SecretSnapshot;
  readonly resourceVersion: string;
}

interface Write {
  /** The resourceVersion the informer showed when the write was made (null: it showed no copy). */
  readonly before: string | null;
  /** The copy as written, or null for a delete. */
  readonly copy: SecretSnapshot | null;
  readonly at: number;
}

/**
 * What this replica wrote, laid over the informer's view until the watch delivers it: without it, the pass right
 * after a write would plan the same write again. A write stops counting as soon as the informer shows any other
 * version than the one it saw before the write (ours, or a later one: a hand edit right after must still be
 * seen and repaired), and after `ttlMs` at most.
 */
export class RecentWrites {
  private readonly writes = new Map<string, Write>();

  constructor(private readonly ttlMs: number) {}

  written(copy: DesiredCopy, before: string | null): void {
    const { namespace, name, type, data, labels, annotations } = copy;
    this.writes.set(refKey(copy), {
      before,
      copy: { namespace, name, type, data, labels, annotations },
      at: Date.now(),
    });
  }

  deleted(ref: SecretRef, before: string | null): void {
    this.writes.set(refKey(ref), { before, copy: null, at: Date.now() });
  }

  overlay(cached: readonly CachedCopy[]): SecretSnapshot[] {
    const now = Date.now();
    const byKey = new Map(cached.map((c) => [refKey(c.snapshot), c]));
    const out = new Map(cached.map((c) => [refKey(c.snapshot), c.snapshot]));
    for (const [key, w] of this.writes) {
      const seen = byKey.get(key)?.resourceVersion ?? null;
      if (now - w.at > this.ttlMs || seen !== w.before) {
        this.writes.delete(key);
        continue;
      }
      if (w.copy === null) out.delete(key);
      else out.set(key, w.copy);
    }
    return [...out.values()];
  }
}
