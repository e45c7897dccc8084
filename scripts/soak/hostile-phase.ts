import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { REQUEST_LIMITS } from '../../src/http/limits.js';
import type { GateProcess } from './gate-process.js';
import { holdBodies, largestReview, post, type Target } from './hostile.js';
import { mib } from './stats.js';

/** The memory limit of the Deployment (256Mi), which every peak below must stay under. */
const MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
const KiB = 1024;

export interface HostileReport {
  readonly note: string;
  readonly lines: readonly string[];
  readonly checks: readonly { name: string; ok: boolean; detail: string }[];
  readonly peaks: Readonly<Record<string, number | null>>;
}

/** NODE_OPTIONS as the Deployment sets it for the registry-gate container, or '' when it sets none. */
export async function deploymentNodeOptions(file: string): Promise<string> {
  const doc = parse(await readFile(file, 'utf8')) as {
    spec?: {
      template?: { spec?: { containers?: { name?: string; env?: { name?: string; value?: string }[] }[] } };
    };
  };
  const container = doc.spec?.template?.spec?.containers?.find((c) => c.name === 'registry-gate');
  return container?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
}

/**
 * What a tenant (or anyone who reaches the port) can do to a replica's memory, with the default limits, while the
 * ordinary load goes on: the largest accepted review to each webhook (every container denied, every container
 * rewritten); a burst of six of them at once (two fit the in-flight cap; the rest must get 429 at once); and 32
 * connections that each declare the largest body and stall before its last byte (two hold the cap until the body
 * timeout cuts them off with 408; the rest get 429). RSS is sampled every 25 ms; every peak must stay under the
 * Deployment's 256Mi limit.
 */
export async function hostilePhase(
  gate: GateProcess,
  target: Target,
  bodyTimeoutMs: number,
): Promise<HostileReport> {
  const size = REQUEST_LIMITS.maxBodyBytes - 4 * KiB;
  const fits = Math.floor(REQUEST_LIMITS.maxInflightBytes / size);
  let peak = 0;
  const sampler = setInterval(() => {
    void gate.rss().then((bytes) => {
      if (bytes !== null && bytes > peak) peak = bytes;
    });
  }, 25);
  const measure = async <T>(run: () => Promise<T>): Promise<{ value: T; peak: number }> => {
    peak = (await gate.rss()) ?? 0;
    const value = await run();
    await new Promise((r) => setTimeout(r, 200));
    return { value, peak };
  };
  const checks: { name: string; ok: boolean; detail: string }[] = [];
  const lines: string[] = [];
  const check = (name: string, ok: boolean, detail: string): void => void checks.push({ name, ok, detail });
  try {
    const denied = (i: number): string => `quay.io/team/app-${i}:1`;
    // The soak's policy mirrors docker.elastic.co: every container of this one is rewritten.
    const rewritten = (i: number): string => `docker.elastic.co/team/app-${i}:1`;
    const validate = await measure(() => post(target, '/validate', largestReview(size, 'huge-v', denied)));
    const mutate = await measure(() => post(target, '/mutate', largestReview(size, 'huge-m', rewritten)));
    check(
      'largest accepted review answered by both webhooks, within the memory limit',
      validate.value.status === 200 &&
        validate.value.allowed === false &&
        validate.value.bytes < 16 * KiB &&
        mutate.value.status === 200 &&
        mutate.value.bytes > size / 2 &&
        Math.max(validate.peak, mutate.peak) < MEMORY_LIMIT_BYTES,
      `validate ${validate.value.status} (${validate.value.bytes} B answer, ${validate.value.ms.toFixed(0)} ms), mutate ${mutate.value.status} (${mutate.value.bytes} B, ${mutate.value.ms.toFixed(0)} ms); peak RSS ${mib(validate.peak)} / ${mib(mutate.peak)} MiB`,
    );
    lines.push(
      `largest accepted review (${mib(size)} MiB): /validate peak RSS ${mib(validate.peak)} MiB, ${validate.value.ms.toFixed(0)} ms, answer ${validate.value.bytes} B; /mutate peak RSS ${mib(mutate.peak)} MiB, ${mutate.value.ms.toFixed(0)} ms, answer ${mutate.value.bytes} B`,
    );

    const burst = await measure(() =>
      Promise.all(
        Array.from({ length: 6 }, (_, k) =>
          post(
            target,
            '/mutate',
            largestReview(size, `burst-${k}`, (i) => rewritten(i + k * 100_000)),
          ).then(
            (a) => a.status,
            (err: unknown) => (err instanceof Error ? err.message : String(err)),
          ),
        ),
      ),
    );
    const admitted = burst.value.filter((s) => s === 200).length;
    const shed = burst.value.filter((s) => s === 429).length;
    // How many are answered depends on timing (one answered gives its bytes back to the next); that some are
    // refused at once, and none fails otherwise, does not.
    check(
      'a burst of largest reviews: what fits the in-flight cap is answered, the rest 429, within the memory limit',
      admitted >= 1 && shed >= 1 && admitted + shed === 6 && burst.peak < MEMORY_LIMIT_BYTES,
      `answers ${burst.value.join(', ')}; peak RSS ${mib(burst.peak)} MiB`,
    );

    const held = await measure(() => holdBodies(target, 32, size, bodyTimeoutMs + 5000));
    const by = (status: number | null): number => held.value.filter((h) => h.status === status).length;
    const refusedLate = held.value.filter((h) => h.status === 429 && (h.ms ?? Infinity) > 2000).length;
    const cutLate = held.value.filter((h) => h.status === 408 && (h.ms ?? Infinity) > bodyTimeoutMs + 3000);
    check(
      '32 stalled uploads: the cap holds, the rest 429 at once, the held ones cut off at the body timeout',
      by(408) >= 1 &&
        by(408) <= fits &&
        by(408) + by(429) === 32 &&
        refusedLate === 0 &&
        cutLate.length === 0 &&
        held.peak < MEMORY_LIMIT_BYTES,
      `408: ${by(408)}, 429: ${by(429)} (${refusedLate} after 2 s), other: ${32 - by(408) - by(429)}; peak RSS ${mib(held.peak)} MiB`,
    );
    lines.push(
      `in-flight cap (${mib(REQUEST_LIMITS.maxInflightBytes)} MiB): burst of 6 largest /mutate reviews -> ${admitted} answered, ${shed} x 429, peak RSS ${mib(burst.peak)} MiB; 32 stalled uploads -> ${by(408)} x 408 after the body timeout, ${by(429)} x 429, peak RSS ${mib(held.peak)} MiB`,
    );
    return {
      note: `peak RSS ${mib(Math.max(validate.peak, mutate.peak, burst.peak, held.peak))} MiB (limit 256)`,
      lines,
      checks,
      peaks: {
        largestValidate: validate.peak,
        largestMutate: mutate.peak,
        burst: burst.peak,
        stalled: held.peak,
      },
    };
  } finally {
    clearInterval(sampler);
  }
}
