import type { Origin } from './rules.js';

/** One `{source, mirrors}` entry of an ICSP, IDMS or ITMS, with where it was written. */
export interface MirrorSetEntry {
  readonly source: string;
  readonly mirrors: readonly string[];
  readonly neverContactSource: boolean;
  readonly origin: Origin;
}

/** All entries for one source, merged the way the nodes merge them. */
export interface MergedMirrors {
  readonly source: string;
  /** Mirrors in the order the node tries them; the source itself, when listed, keeps its place in that order. */
  readonly order: readonly string[];
  /** True when any entry for this source says `mirrorSourcePolicy: NeverContactSource`. */
  readonly neverContactSource: boolean;
  /** The entries merged, in input order: where each mirror was written. */
  readonly entries: readonly MirrorSetEntry[];
}

/**
 * Merges mirror-set entries per source exactly as the Machine Config Operator renders registries.conf
 * (openshift/runtime-utils pkg/registries: mergedMirrorSets and its topological sort):
 * - an entry whose mirrors only repeat the source is no mirror set and is ignored (its policy too);
 * - each entry's list is a chain of "try before" edges, and the source comes after the last mirror unless the
 *   entry lists it itself; the merged order is a topological sort that takes, among the candidates, the
 *   lexicographically smallest first, and breaks a loop at the smallest unused name (so (B, C) and (A, B) give
 *   (A, B, C), and contradictory orders still give one deterministic answer);
 * - `NeverContactSource` on any entry blocks the source for all of them;
 * - sources come out sorted, as the MCO writes them.
 */
export function mergeMirrorSets(entries: readonly MirrorSetEntry[]): MergedMirrors[] {
  const bySource = new Map<string, MirrorSetEntry[]>();
  for (const entry of entries) {
    if (!entry.mirrors.some((m) => m !== entry.source)) continue;
    const list = bySource.get(entry.source) ?? [];
    list.push(entry);
    bySource.set(entry.source, list);
  }
  return [...bySource.keys()].sort().map((source) => {
    const group = bySource.get(source) ?? [];
    const edges: [string, string][] = [];
    for (const entry of group) {
      const chain = entry.mirrors.includes(source) ? entry.mirrors : [...entry.mirrors, source];
      for (let i = 0; i + 1 < chain.length; i++) edges.push([chain[i] ?? '', chain[i + 1] ?? '']);
    }
    const sorted = topologicalOrder(edges);
    const order = sorted[sorted.length - 1] === source ? sorted.slice(0, -1) : sorted;
    return {
      source,
      order,
      neverContactSource: group.some((e) => e.neverContactSource),
      entries: group,
    };
  });
}

/**
 * Kahn's algorithm with the MCO's tie-breaks: candidates are taken in name order as they become free, and a loop
 * is broken by the first unused node in name order (runtime-utils pkg/registries/topo.go).
 */
export function topologicalOrder(edges: readonly (readonly [string, string])[]): string[] {
  const ins = new Map<string, Set<string>>();
  const outs = new Map<string, Set<string>>();
  const node = (name: string): void => {
    if (!ins.has(name)) ins.set(name, new Set());
    if (!outs.has(name)) outs.set(name, new Set());
  };
  for (const [from, to] of edges) {
    node(from);
    node(to);
    outs.get(from)?.add(to);
    ins.get(to)?.add(from);
  }
  const all = [...ins.keys()].sort();
  const used = new Set<string>();
  const queue = all.filter((n) => (ins.get(n)?.size ?? 0) === 0);
  const result: string[] = [];
  let next = 0;
  while (queue.length > 0 || next < all.length) {
    let current = queue.shift();
    if (current === undefined) {
      current = all[next++];
      if (current === undefined || used.has(current)) continue;
    }
    used.add(current);
    result.push(current);
    const freed: string[] = [];
    for (const out of outs.get(current) ?? []) {
      const waiting = ins.get(out);
      waiting?.delete(current);
      if (waiting?.size === 0 && !used.has(out)) freed.push(out);
    }
    queue.push(...freed.sort());
  }
  return result;
}
