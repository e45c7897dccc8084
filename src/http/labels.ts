import { POD_BEARING_KINDS } from '../engine/index.js';

/**
 * Metric label values that come from a request, each from a closed set: every distinct value is a new time
 * series held in memory for the life of the process (and in Prometheus after it), and 400 requests with made-up
 * `request.kind` values once made 412 series. Whatever is not in the set is `other`.
 */
const KINDS: ReadonlySet<string> = new Set(POD_BEARING_KINDS);

/** The kind, when it is one the gate judges (by group and kind, as the pod-spec table keys them). */
export function kindLabel(group: string, kind: string): string {
  return KINDS.has(`${group}/${kind}`) ? kind : 'other';
}

const STATUSES: ReadonlySet<number> = new Set([400, 404, 408, 413, 415, 429, 500, 503]);

export function statusLabel(status: number): string {
  return STATUSES.has(status) ? String(status) : 'other';
}
