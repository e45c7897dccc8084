import type { Sample } from './load.js';

/** The p-th percentile (0..100) by nearest rank; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** Latency of the answered samples sent in [from, to). */
export function window(
  samples: readonly Sample[],
  from: number,
  to: number,
): { n: number; p50: number | null; p99: number | null } {
  const ms = samples
    .filter((s) => s.sentAt >= from && s.sentAt < to && s.outcome?.ok === true)
    .map((s) => s.ms);
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

export const mib = (bytes: number | null): string =>
  bytes === null ? 'n/a' : (bytes / 1024 / 1024).toFixed(1);
export const ms = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(1));
