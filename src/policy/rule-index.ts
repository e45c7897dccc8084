import type { RegistryEntry } from './entry.js';

/** What an entry is matched against: a parsed image, with its host already canonical. */
export interface ImageKey {
  readonly host: string;
  readonly port: string | null;
  readonly path: readonly string[];
  /** The tag the kubelet pulls: the written tag, or `latest` when there is neither tag nor digest. */
  readonly tag: string | null;
  readonly digest: string | null;
}

export interface RuleMatch<T> {
  readonly entry: RegistryEntry;
  readonly value: T;
}

class PathNode<T> {
  readonly here: RuleMatch<T>[] = [];
  readonly byTag = new Map<string, RuleMatch<T>[]>();
  readonly byDigest = new Map<string, RuleMatch<T>[]>();
  readonly children = new Map<string, PathNode<T>>();
}

function childOf<T>(map: Map<string, PathNode<T>>, key: string): PathNode<T> {
  let node = map.get(key);
  if (node === undefined) {
    node = new PathNode<T>();
    map.set(key, node);
  }
  return node;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Registry entries indexed by host, then port, then whole path component, so that finding every entry that
 * covers an image costs a few map look-ups whatever the number of entries (10 or 10,000).
 *
 * Matching rules (docs/policy.md, "Entries and how they match"): a path entry covers an image only on whole components (`quay.io/org` covers
 * `quay.io/org/app`, not `quay.io/organisation/app`); an entry without a port covers its host on every port, one
 * with a port only that port; `*.domain` covers every subdomain at any depth but not the domain itself; a tag or
 * digest entry covers only that exact tag or digest.
 */
export class RuleIndex<T> {
  private readonly anyPort = new Map<string, PathNode<T>>();
  private readonly byPort = new Map<string, PathNode<T>>();
  private readonly wildcards = new Map<string, RuleMatch<T>[]>();
  private readonly entries: RuleMatch<T>[] = [];

  get size(): number {
    return this.entries.length;
  }

  /** Every entry, in the order added. */
  all(): readonly RuleMatch<T>[] {
    return this.entries;
  }

  add(entry: RegistryEntry, value: T): void {
    const match = { entry, value };
    this.entries.push(match);
    if (entry.wildcard) {
      push(this.wildcards, entry.host, match);
      return;
    }
    const roots = entry.port === null ? this.anyPort : this.byPort;
    const rootKey = entry.port === null ? entry.host : `${entry.host}:${entry.port}`;
    let node = childOf(roots, rootKey);
    for (const component of entry.path) node = childOf(node.children, component);
    if (entry.tag !== null) push(node.byTag, entry.tag, match);
    else if (entry.digest !== null) push(node.byDigest, entry.digest, match);
    else node.here.push(match);
  }

  /**
   * Every entry that covers the image, most specific first: deeper paths before shallower, an exact tag or digest
   * before its repository, a port-specific entry before a portless one at the same depth, wildcards last (longer
   * suffixes first). Entries of equal specificity keep the order they were added in.
   */
  matchAll(image: ImageKey): RuleMatch<T>[] {
    const found: RuleMatch<T>[][] = [];
    const specific = image.port === null ? undefined : this.byPort.get(`${image.host}:${image.port}`);
    const general = this.anyPort.get(image.host);
    // Walk both tries in step, collecting per depth so that depth dominates and port breaks ties.
    let a = specific;
    let b = general;
    const levels: RuleMatch<T>[][] = [];
    for (let depth = 0; a !== undefined || b !== undefined; depth++) {
      const level: RuleMatch<T>[] = [];
      for (const node of [a, b]) {
        if (node === undefined) continue;
        if (depth === image.path.length) {
          if (image.digest !== null) level.push(...(node.byDigest.get(image.digest) ?? []));
          if (image.tag !== null) level.push(...(node.byTag.get(image.tag) ?? []));
        }
      }
      for (const node of [a, b]) if (node !== undefined) level.push(...node.here);
      levels.push(level);
      const component = image.path[depth];
      if (component === undefined) break;
      a = a?.children.get(component);
      b = b?.children.get(component);
    }
    for (let i = levels.length - 1; i >= 0; i--) found.push(levels[i] ?? []);
    // `*.example.com` covers `a.example.com` and `a.b.example.com`: try each proper suffix after a dot.
    for (let dot = image.host.indexOf('.'); dot !== -1; dot = image.host.indexOf('.', dot + 1)) {
      const hits = this.wildcards.get(image.host.slice(dot + 1));
      if (hits) found.push(hits);
    }
    return found.flat();
  }

  /** The most specific entry covering the image, or null. */
  matchFirst(image: ImageKey): RuleMatch<T> | null {
    return this.matchAll(image)[0] ?? null;
  }
}
