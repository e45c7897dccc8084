import type { ApiClient } from './apiserver-client.js';

/**
 * What the apiserver itself measured (its /metrics histograms), to say where a create's time goes: the whole
 * request, each webhook call as the apiserver saw it, its matchConditions, and every admission step.
 */
export interface Totals {
  readonly sum: number;
  readonly count: number;
}
export type Snapshot = Map<string, Totals>;

/** Histograms kept, and how a series is named in the report (null: not kept). */
const KEPT: Record<string, (labels: Record<string, string>) => string | null> = {
  apiserver_request_duration_seconds: (l) =>
    l.verb === 'POST' && l.resource === 'pods' && l.subresource === '' && l.dry_run === 'All'
      ? 'request: POST pods?dryRun=All'
      : null,
  apiserver_admission_webhook_admission_duration_seconds: (l) =>
    l.operation === 'CREATE' ? `webhook call: ${l.name}` : null,
  apiserver_admission_match_condition_evaluation_seconds: (l) => `matchConditions: ${l.name}`,
  apiserver_admission_step_admission_duration_seconds: (l) =>
    l.operation === 'CREATE' ? `admission step: ${l.type}` : null,
};

function labelsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

/** The _sum and _count of the kept histograms, by report name (series of one name added up). */
export function parseTotals(text: string): Snapshot {
  const out: Snapshot = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\w+)_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const name = KEPT[m[1] ?? '']?.(labelsOf(m[3] ?? ''));
    if (!name) continue;
    const prev = out.get(name) ?? { sum: 0, count: 0 };
    const value = Number(m[4]);
    out.set(
      name,
      m[2] === 'sum' ? { ...prev, sum: prev.sum + value } : { ...prev, count: prev.count + value },
    );
  }
  return out;
}

export async function snapshot(client: ApiClient): Promise<Snapshot> {
  const reply = await client.get('/metrics');
  if (reply.status !== 200) throw new Error(`apiserver /metrics answered ${reply.status}`);
  return parseTotals(reply.body);
}

/** Between two snapshots: per series, how many observations and their mean in ms. */
export function meansBetween(
  before: Snapshot,
  after: Snapshot,
): Record<string, { count: number; meanMs: number }> {
  const out: Record<string, { count: number; meanMs: number }> = {};
  for (const [name, end] of [...after].sort(([a], [b]) => a.localeCompare(b))) {
    const start = before.get(name) ?? { sum: 0, count: 0 };
    const count = end.count - start.count;
    if (count > 0) out[name] = { count, meanMs: Math.round(((end.sum - start.sum) / count) * 1e5) / 100 };
  }
  return out;
}
