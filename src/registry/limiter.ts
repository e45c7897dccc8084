/**
 * At most `limit` look-ups in flight per key (a mirror's registry host): a cold review of a 50-container Pod must
 * not open 37 connections to one mirror at once, nor may a burst of reviews. Waiters are served first come, first
 * served; one whose signal aborts (the review's budget) leaves the queue with the signal's reason.
 */
export class Limiter {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  async run<T>(key: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    await this.acquire(key, signal);
    try {
      return await task();
    } finally {
      this.release(key);
    }
  }

  private acquire(key: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const n = this.running.get(key) ?? 0;
    if (n < this.limit) {
      this.running.set(key, n + 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(key) ?? [];
      this.waiting.set(key, queue);
      const start = (): void => {
        signal.removeEventListener('abort', abort);
        resolve();
      };
      const abort = (): void => {
        const i = queue.indexOf(start);
        if (i !== -1) queue.splice(i, 1);
        reject(signal.reason as Error);
      };
      queue.push(start);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  private release(key: string): void {
    const next = this.waiting.get(key)?.shift();
    if (next !== undefined) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    const n = (this.running.get(key) ?? 1) - 1;
    if (n === 0) {
      this.running.delete(key);
      this.waiting.delete(key);
    } else this.running.set(key, n);
  }
}
