import {
  evaluateImage,
  type CompiledPolicy,
  type ImageContext,
  type ImageDecision,
} from '../policy/index.js';
import type { Decide } from './evaluate-workload.js';

/**
 * Remembers image decisions: across admission requests in the server, across objects in `audit`. It is the one
 * memory of decisions; `evaluateWorkload` asks it through {@link DecisionCache.for}. The policy engine is pure, so the same policy, image,
 * judge and namespace always give the same decision; a Pod repeats images (sidecars) and a cluster admits the
 * same few hundred images again and again, while one decision costs tens of microseconds (parsing, short-name
 * resolution, mirror rewrite, rule lookups). Decisions are immutable, so handing out the same object is safe.
 *
 * Bounded (least recently used goes first) so that a stream of distinct images cannot grow memory, and emptied
 * whenever the policy generation changes: a decision never outlives the policy that made it.
 */
export class DecisionCache {
  private generation: number | null = null;
  private policy: CompiledPolicy | null = null;
  /** Insertion order is recency order: a hit moves its entry to the end; the first entry is the oldest. */
  private readonly entries = new Map<string, ImageDecision>();

  /** `capacity` is a positive integer, or Infinity for a run that ends (an audit holds every distinct image). */
  constructor(readonly capacity = 4096) {
    if (capacity !== Number.POSITIVE_INFINITY && (!Number.isInteger(capacity) || capacity < 1))
      throw new RangeError('capacity must be a positive integer or Infinity');
  }

  get size(): number {
    return this.entries.size;
  }

  /** {@link DecisionCache.decide} for one policy: what `evaluateWorkload` takes. */
  for(generation: number, policy: CompiledPolicy): Decide {
    return (image, context) => this.decide(generation, policy, image, context);
  }

  /** The decision for `image` under the policy of `generation`, computed at most once while it stays cached. */
  decide(generation: number, policy: CompiledPolicy, image: string, context: ImageContext): ImageDecision {
    // Identity as well as the number: two stores (tests, a replaced store) may both be at generation 1.
    if (generation !== this.generation || policy !== this.policy) {
      this.entries.clear();
      this.generation = generation;
      this.policy = policy;
    }
    const key = `${context.judge}\n${context.namespace ?? '\u0000'}\n${image}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const decision = evaluateImage(policy, image, context);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, decision);
    return decision;
  }
}
