import type { MirrorAnswer, MirrorLookup } from '../policy/index.js';
import type { AnswerCache } from './answer-cache.js';
import type { RegistryClient } from './client.js';
import type { CredentialStore } from './credentials.js';
import type { Limiter } from './limiter.js';
import { BudgetExhausted } from './transport.js';

export type LookupResult = MirrorAnswer['status'];

/** What the checker tells the metrics: bounded labels only (mirrors from the policy, results from a closed set). */
export interface LookupObserver {
  lookup(mirror: string, result: LookupResult, seconds: number): void;
  cacheHit(mirror: string): void;
}

export interface CheckerParts {
  readonly client: RegistryClient;
  readonly credentials: CredentialStore;
  readonly cache: AnswerCache;
  readonly limiter: Limiter;
  readonly observer?: LookupObserver | undefined;
}

/**
 * Answers a review's look-ups within one time budget: each distinct image once, from the cache when it can, the
 * rest in parallel with at most the limiter's count in flight per mirror registry. When the budget is spent every
 * unanswered look-up is an `error` (and `onError` decides), so a slow mirror costs a review its budget, never the
 * webhook's timeout.
 */
export class MirrorChecker {
  /** Cache keys per look-up object (the admission memo hands out the same ones), for this read of the secrets. */
  private readonly keys = new WeakMap<MirrorLookup, { generation: number; key: string }>();

  constructor(private readonly parts: CheckerParts) {}

  /** Empties the answer cache and forgets tokens and learnt schemes: the policy or the credentials changed. */
  reset(): void {
    this.parts.cache.clear();
    this.parts.client.reset();
  }

  async check(lookups: readonly MirrorLookup[], budgetMs: number): Promise<Map<string, MirrorAnswer>> {
    const answers = new Map<string, MirrorAnswer>();
    const asking: MirrorLookup[] = [];
    for (const lookup of lookups) {
      if (answers.has(lookup.key) || asking.some((l) => l.key === lookup.key)) continue;
      const cached = this.parts.cache.get(this.cacheKey(lookup));
      if (cached !== undefined) {
        this.parts.observer?.cacheHit(lookup.mirror);
        answers.set(lookup.key, cached);
      } else asking.push(lookup);
    }
    if (asking.length === 0) return answers;
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(new BudgetExhausted()), budgetMs);
    try {
      const asked = await Promise.all(asking.map((lookup) => this.ask(lookup, budget.signal)));
      asking.forEach((lookup, i) => answers.set(lookup.key, asked[i]!));
    } finally {
      clearTimeout(timer);
    }
    return answers;
  }

  private cacheKey(lookup: MirrorLookup): string {
    const { generation } = this.parts.credentials;
    const known = this.keys.get(lookup);
    if (known !== undefined && known.generation === generation) return known.key;
    const who = this.parts.credentials.choose(lookup.secrets, `${lookup.registry}/${lookup.repository}`);
    const key = `${lookup.registry}/${lookup.repository}\n${lookup.reference}\n${lookup.insecure}\n${who.fingerprint}`;
    this.keys.set(lookup, { generation, key });
    return key;
  }

  private async ask(lookup: MirrorLookup, signal: AbortSignal): Promise<MirrorAnswer> {
    const started = performance.now();
    const who = this.parts.credentials.choose(lookup.secrets, `${lookup.registry}/${lookup.repository}`);
    let answer: MirrorAnswer;
    try {
      answer = await this.parts.limiter.run(lookup.registry, signal, () =>
        this.parts.client.headManifest(lookup.registry, lookup.repository, lookup.reference, {
          signal,
          credentials: who.credentials,
          insecure: lookup.insecure,
        }),
      );
    } catch (err) {
      if (!(err instanceof BudgetExhausted)) throw err;
      answer = { status: 'error', httpStatus: null, reason: 'the time budget for mirror look-ups was spent' };
    }
    if (answer.status === 'error' && 'problem' in who)
      answer = { ...answer, reason: `${answer.reason}; pull secret ${who.problem}` };
    this.parts.observer?.lookup(lookup.mirror, answer.status, (performance.now() - started) / 1000);
    // A spent budget says nothing about the mirror: not remembered, the next review asks again.
    if (!signal.aborted || answer.status !== 'error') {
      this.parts.cache.set(this.cacheKey(lookup), answer, lookup.byDigest);
    }
    return answer;
  }
}
