import { setTimeout as sleep } from 'node:timers/promises';

/** One create: its latency, and why it failed (null when it answered as expected). */
export interface Sample {
  readonly ms: number;
  readonly failure: string | null;
}

export interface LoadResult {
  readonly samples: Sample[];
  /** From the first request sent to the last answer. */
  readonly seconds: number;
  /** How late the latest request left against its schedule (fixed rate only): above a few ms, the client lagged. */
  readonly maxLagMs: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * An open loop: request i leaves at start + i/rate whether or not earlier ones were answered, so a slow answer
 * delays no later request and the latencies are not flattered (no coordinated omission).
 */
export async function atFixedRate(
  send: () => Promise<Sample>,
  rate: number,
  seconds: number,
): Promise<LoadResult> {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const samples: Sample[] = [];
  const pending: Promise<void>[] = [];
  let maxLagMs = 0;
  const start = now();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    maxLagMs = Math.max(maxLagMs, now() - due);
    pending.push(send().then((s) => void samples.push(s)));
  }
  await Promise.all(pending);
  return { samples, seconds: (now() - start) / 1000, maxLagMs };
}

/** A closed loop: `concurrency` clients, each sending its next request as soon as the last is answered. */
export async function saturating(
  send: () => Promise<Sample>,
  concurrency: number,
  seconds: number,
): Promise<LoadResult> {
  const samples: Sample[] = [];
  const start = now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < end) samples.push(await send());
    }),
  );
  return { samples, seconds: (now() - start) / 1000, maxLagMs: 0 };
}

export interface LatencySummary {
  readonly creates: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

const r2 = (n: number): number => Math.round(n * 100) / 100;

/** Nearest-rank percentiles in ms over every sample, failed ones included (a failure is slow or fast, not absent). */
export function summarize(samples: readonly Sample[]): LatencySummary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number): number =>
    r2(ms[Math.min(ms.length - 1, Math.max(0, Math.ceil(q * ms.length) - 1))] ?? 0);
  return {
    creates: samples.length,
    failed: samples.filter((s) => s.failure !== null).length,
    p50: at(0.5),
    p99: at(0.99),
    max: r2(ms[ms.length - 1] ?? 0),
    mean: r2(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length)),
  };
}
