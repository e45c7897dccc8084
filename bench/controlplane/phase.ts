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
