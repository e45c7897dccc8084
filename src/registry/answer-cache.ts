import { LRUCache } from 'lru-cache';
import type { MirrorAnswer } from '../policy/index.js';

/** How long each kind of answer is believed (milliseconds). */
export interface AnswerTtls {
  /** An image found by digest: a digest names the same bytes for ever; only deletion from the mirror changes it. */
  readonly foundDigest: number;
  /** An image found by tag: tags move, and `pin: digest` should pin what the tag names now, give or take this. */
  readonly foundTag: number;
  /** Not in the mirror: short, so that mirroring it is noticed soon after. */
  readonly missing: number;
  /** Could not ask: very short; it only spares a burst of reviews the same timeout. */
  readonly error: number;
}

export const DEFAULT_TTLS: AnswerTtls = {
  foundDigest: 600_000,
  foundTag: 60_000,
  missing: 10_000,
  error: 3_000,
};

/**
 * The mirrors' answers, remembered across reviews: a cluster admits the same few hundred images over and over, and
 * a warm look-up must cost next to nothing (docs/benchmarks.md). Bounded in entries (least recently used out
 * first), each entry with the TTL of its kind, and emptied whole when the policy or the credentials change
 * ({@link clear}): an answer never outlives the rules or the secret it was asked under.
 */
export class AnswerCache {
  /** Null when the capacity is 0: every look-up is asked (`--mirror-cache-size 0`, the bench's cold cells). */
  private readonly answers: LRUCache<string, MirrorAnswer> | null;

  constructor(
    capacity = 4096,
    private readonly ttls: AnswerTtls = DEFAULT_TTLS,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError('capacity must be 0 or more');
    this.answers = capacity === 0 ? null : new LRUCache<string, MirrorAnswer>({ max: capacity });
  }

  get(key: string): MirrorAnswer | undefined {
    return this.answers?.get(key);
  }

  set(key: string, answer: MirrorAnswer, byDigest: boolean): void {
    const ttl =
      answer.status === 'found'
        ? byDigest
          ? this.ttls.foundDigest
          : this.ttls.foundTag
        : answer.status === 'missing'
          ? this.ttls.missing
          : this.ttls.error;
    if (ttl > 0) this.answers?.set(key, answer, { ttl });
  }

  clear(): void {
    this.answers?.clear();
  }

  get size(): number {
    return this.answers?.size ?? 0;
  }
}
