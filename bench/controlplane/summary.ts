import { round } from '../proc.mjs';
import { summarize, type LatencySummary, type Sample } from './load.js';
import type { Mode, Phase } from './phase.js';

export interface Target {
  readonly target: string;
  readonly value: number;
  readonly want: string;
  readonly pass: boolean | null;
}

export interface Pooled {
  readonly mode: Mode;
  readonly rounds: number;
  /** Every fixed-rate create of every round of this mode, as one sample. */
  readonly fixedRateMs: LatencySummary;
  /** All saturating creates over all their seconds. */
  readonly createsPerSec: number;
  readonly saturatingCpuUsPerCreate: Record<string, number>;
  /**
   * At the fixed rate, mean ms weighted over the rounds: the apiserver's own histograms (the whole request, each
   * webhook call, each admission step) and registry-gate's own time (`registry-gate /mutate`, `… /validate`).
   */
  readonly meansMs: Record<string, number>;
}

/** Count-weighted means of every series over the phases. */
function weightedMeans(
  series: readonly Record<string, { count: number; mean: number }>[],
): Record<string, number> {
  const totals = new Map<string, { n: number; sum: number }>();
  for (const one of series) {
    for (const [name, { count, mean }] of Object.entries(one)) {
      const t = totals.get(name) ?? { n: 0, sum: 0 };
      totals.set(name, { n: t.n + count, sum: t.sum + count * mean });
    }
  }
  return Object.fromEntries([...totals].map(([name, t]) => [name, round(t.sum / Math.max(1, t.n), 2)]));
}

export function pool(mode: Mode, phases: readonly Phase[], samples: readonly Sample[]): Pooled {
  const mine = phases.filter((p) => p.mode === mode);
  const creates = mine.reduce((n, p) => n + p.saturating.latencyMs.creates, 0);
  const seconds = mine.reduce((n, p) => n + p.saturating.seconds, 0);
  const names = [...new Set(mine.flatMap((p) => Object.keys(p.saturating.cpuUsPerCreate)))];
  const cpuUsPerCreate = Object.fromEntries(
    names.map((name) => [
      name,
      round(
        mine.reduce(
          (n, p) => n + (p.saturating.cpuUsPerCreate[name] ?? 0) * p.saturating.latencyMs.creates,
          0,
        ) / Math.max(1, creates),
        0,
      ),
    ]),
  );
  return {
    mode,
    rounds: mine.length,
    fixedRateMs: summarize(samples),
    createsPerSec: round(creates / Math.max(seconds, 1e-9)),
    saturatingCpuUsPerCreate: cpuUsPerCreate,
    meansMs: weightedMeans(
      mine.map((p) => ({
        ...Object.fromEntries(
          Object.entries(p.fixedRate.apiserver).map(([name, m]) => [
            name,
            { count: m.count, mean: m.meanMs },
          ]),
        ),
        ...Object.fromEntries(
          Object.entries(p.fixedRate.gate).map(([webhook, t]) => [`registry-gate /${webhook}`, t]),
        ),
      })),
    ),
  };
}

export function targets(pooled: Record<Mode, Pooled>, phases: readonly Phase[], rate: number): Target[] {
  const { baseline, floor, replay, gate } = pooled;
  const added = (a: Pooled, b: Pooled, q: 'p50' | 'p99'): number =>
    round(a.fixedRateMs[q] - b.fixedRateMs[q], 2);
  const ratio = (a: Pooled, b: Pooled): number => round(a.createsPerSec / Math.max(b.createsPerSec, 1e-9), 2);
  const addedP99 = added(gate, baseline, 'p99');
  const failed = phases.reduce(
    (n, p) => n + p.warmupFailed + p.fixedRate.latencyMs.failed + p.saturating.latencyMs.failed,
    0,
  );
  const anomalies = phases.reduce((n, p) => n + p.anomalies.length, 0);
  const shown = (target: string, value: number): Target => ({ target, value, want: 'shown', pass: null });
  return [
    {
      target: `added p99 per create at ${rate} creates/s (gate − baseline)`,
      value: addedP99,
      want: '<= 5 ms',
      pass: addedP99 <= 5,
    },
    {
      target: 'no create failed (201 and the expected Pod, warm-ups included)',
      value: failed,
      want: '0',
      pass: failed === 0,
    },
    {
      target: 'the apiserver called the webhooks registered, once per create, and no others',
      value: anomalies,
      want: '0',
      pass: anomalies === 0,
    },
    shown(`added p50 per create at ${rate} creates/s (gate − baseline)`, added(gate, baseline, 'p50')),
    shown('any webhook (floor − baseline), p50', added(floor, baseline, 'p50')),
    shown('any webhook (floor − baseline), p99', added(floor, baseline, 'p99')),
    shown(
      "the apiserver's work on registry-gate's answers (replay − floor), p50",
      added(replay, floor, 'p50'),
    ),
    shown(
      "the apiserver's work on registry-gate's answers (replay − floor), p99",
      added(replay, floor, 'p99'),
    ),
    shown("registry-gate's own work (gate − replay), p50", added(gate, replay, 'p50')),
    shown("registry-gate's own work (gate − replay), p99", added(gate, replay, 'p99')),
    shown('saturating creates/s, floor / baseline', ratio(floor, baseline)),
    shown('saturating creates/s, replay / baseline', ratio(replay, baseline)),
    shown('saturating creates/s, gate / baseline', ratio(gate, baseline)),
  ];
}
