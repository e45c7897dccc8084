import { round } from '../proc.mjs';
import { summarize, type LatencySummary, type Sample } from './load.js';
import type { Connections } from './connections.js';
import type { CpuUse } from './cpu.js';

/** No webhook registered; the stand-ins of stand-in.ts; registry-gate. */
export type Mode = 'baseline' | 'floor' | 'replay' | 'gate';
export const MODES: readonly Mode[] = ['baseline', 'floor', 'replay', 'gate'];

/** The gate's own time per admission (its log line's `ms`: body received to answer written). */
export interface GateTime {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

export interface Window {
  readonly seconds: number;
  readonly createsPerSec: number;
  readonly latencyMs: LatencySummary;
  readonly cpu: CpuUse;
  /** CPU time per create of each of our processes, µs (from the window's CPU use). */
  readonly cpuUsPerCreate: Record<string, number>;
}

export interface Phase {
  readonly round: number;
  readonly mode: Mode;
  readonly warmupFailed: number;
  readonly fixedRate: Window & {
    readonly rate: number;
    readonly maxLagMs: number;
    /** The apiserver's own histograms over the window: count and mean per series. */
    readonly apiserver: Record<string, { count: number; meanMs: number }>;
    /** Admissions the gate logged for the bench namespace during the window, by webhook. */
    readonly gate: Record<string, GateTime>;
    /** The webhook server's TCP connections at the end of the window (null without webhooks). */
    readonly connections: Connections | null;
    /** Calls of the tenant webhooks the apiserver counted during the window (0 in baseline phases). */
    readonly webhookCalls: { readonly mutate: number; readonly validate: number };
  };
  readonly saturating: Window & { readonly concurrency: number };
  /** The first few distinct reasons a create failed. */
  readonly failures: string[];
  /** Webhook calls other than one of each per create for a registered server, none without. */
  readonly anomalies: string[];
  readonly noisy: boolean;
}

export interface Target {
  readonly target: string;
  readonly value: number;
  readonly want: string;
  readonly pass: boolean | null;
}

/** More than this share of a core used by other processes during a window: its figures are not clean. */
export const NOISY_PCT = 5;

export function windowOf(samples: readonly Sample[], seconds: number, cpu: CpuUse): Window {
  const latencyMs = summarize(samples);
  const cpuUsPerCreate = Object.fromEntries(
    Object.entries(cpu.ours).map(([name, pct]) => [
      name,
      samples.length > 0 ? round(((pct / 100) * cpu.seconds * 1e6) / samples.length, 0) : 0,
    ]),
  );
  return {
    seconds: round(seconds, 2),
    createsPerSec: round(samples.length / seconds),
    latencyMs,
    cpu,
    cpuUsPerCreate,
  };
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const cpuText = (cpu: CpuUse): string =>
  `${Object.entries(cpu.ours)
    .map(([name, pct]) => `${name} ${pct}`)
    .join(', ')}; others ${cpu.othersPct}` +
  (cpu.othersPct > NOISY_PCT
    ? ` NOISY (${cpu.topOthers.map((t) => `${t.comm} ${t.cpuPct}`).join(', ')})`
    : '');

export function printPhase(p: Phase, write: (s: string) => void): void {
  const f = p.fixedRate;
  const s = p.saturating;
  const l = f.latencyMs;
  write(
    `round ${p.round} ${p.mode.padEnd(8)} at ${f.rate}/s: ${pad(l.creates, 5)} creates  p50/p99/max ` +
      `${pad(l.p50, 6)}/${pad(l.p99, 6)}/${pad(l.max, 6)} ms  failed ${l.failed}  (client lag max ${round(f.maxLagMs)} ms)\n`,
  );
  write(
    `    webhook calls ${f.webhookCalls.mutate} mutate, ${f.webhookCalls.validate} validate; CPU % of a core: ${cpuText(f.cpu)}\n`,
  );
  if (f.connections) {
    write(
      `    connections to the webhook server: ${f.connections.open} open, ${f.connections.closedLately} closed in the last minute\n`,
    );
  }
  for (const [webhook, t] of Object.entries(f.gate)) {
    write(
      `    gate's own time, ${webhook}: ${t.count} admissions, p50/p99 ${t.p50}/${t.p99} ms, mean ${t.mean} ms\n`,
    );
  }
  for (const [series, m] of Object.entries(f.apiserver)) {
    write(`    apiserver ${series}: mean ${m.meanMs} ms over ${m.count}\n`);
  }
  write(
    `  saturating, ${s.concurrency} at a time: ${pad(s.createsPerSec, 6)} creates/s  p50/p99 ` +
      `${s.latencyMs.p50}/${s.latencyMs.p99} ms  failed ${s.latencyMs.failed}; CPU µs per create: ` +
      `${Object.entries(s.cpuUsPerCreate)
        .map(([name, us]) => `${name} ${us}`)
        .join(', ')}\n    CPU % of a core: ${cpuText(s.cpu)}\n`,
  );
  for (const reason of p.failures) write(`    failed: ${reason}\n`);
  for (const anomaly of p.anomalies) write(`    wrong calls: ${anomaly}\n`);
}

export interface Pooled {
  readonly mode: Mode;
  readonly rounds: number;
  /** Every fixed-rate create of every round of this mode, as one sample. */
  readonly fixedRateMs: LatencySummary;
  /** All saturating creates over all their seconds. */
  readonly createsPerSec: number;
  readonly saturatingCpuUsPerCreate: Record<string, number>;
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

export function printSummary(
  pooled: readonly Pooled[],
  checks: readonly Target[],
  noisy: number,
  phases: number,
  write: (s: string) => void,
): void {
  write('\nall rounds pooled\n');
  write(
    '| phase | fixed-rate creates | p50 ms | p99 ms | max ms | saturating creates/s | CPU µs per create (saturating) |\n',
  );
  write('| --- | ---: | ---: | ---: | ---: | ---: | --- |\n');
  for (const p of pooled) {
    const l = p.fixedRateMs;
    const cpu = Object.entries(p.saturatingCpuUsPerCreate)
      .map(([name, us]) => `${name} ${us}`)
      .join(', ');
    write(`| ${p.mode} | ${l.creates} | ${l.p50} | ${l.p99} | ${l.max} | ${p.createsPerSec} | ${cpu} |\n`);
  }
  write('\ntargets\n');
  for (const t of checks) {
    const verdict = t.pass === null ? '    ' : t.pass ? 'PASS' : 'FAIL';
    write(`  ${verdict}  ${t.target}: ${t.value} (want ${t.want})\n`);
  }
  if (noisy > 0) {
    write(
      `\nNOISY RUN: other processes used more than ${NOISY_PCT} % of a core during ${noisy} of ${phases} phases; ` +
        'repeat on a quiet machine before trusting the figures.\n',
    );
  }
}
