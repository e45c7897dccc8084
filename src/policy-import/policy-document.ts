import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import { isRecord } from '../policy/fields.js';
import { POLICY_API_VERSION, POLICY_KIND, type MirrorRoute } from '../policy/types.js';
import { formatOrigin, type ImportedRules, type Origin, type WithOrigins } from './rules.js';

/** Comment lines that name a rule's origin start with this word; `explain` reads them back (policy-origins.ts). */
export const ORIGIN_COMMENT = 'origin:';

type Path = readonly (string | number)[];

export interface PolicyDocumentOptions {
  /** metadata.name of a new policy; ignored when a base policy is given. */
  readonly name?: string;
  /**
   * A RegistryPolicy document (as parsed from YAML) whose spec the imported rules extend: its lists come first,
   * the imported entries after; an imported short-name registry replaces the base one.
   */
  readonly base?: Record<string, unknown>;
}

function mirrorValue(rule: MirrorRoute): Record<string, unknown> {
  return {
    source: rule.source,
    mirror: rule.mirror,
    ...(rule.digestOnly ? { digestOnly: true } : {}),
    ...(rule.tagOnly ? { tagOnly: true } : {}),
  };
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Builds a RegistryPolicy YAML document from imported rules, each rule preceded by `# origin: …` comments and the
 * notes in the document's header, so that the file says where every line came from.
 */
export function policyDocument(rules: ImportedRules, options: PolicyDocumentOptions = {}): Document {
  const base = options.base;
  const baseSpec = isRecord(base?.spec) ? base.spec : {};
  const spec: Record<string, unknown> = { ...baseSpec };
  const origins: [Path, readonly Origin[]][] = [];
  const append = (path: Path, existing: unknown, items: readonly WithOrigins<unknown>[]): unknown[] => {
    const start = listOf(existing);
    items.forEach((item, i) => origins.push([[...path, start.length + i], item.origins]));
    return [...start, ...items.map((item) => item.value)];
  };

  const baseShort = isRecord(baseSpec.shortNames) ? baseSpec.shortNames : {};
  const shortNames: Record<string, unknown> = { ...baseShort };
  if (rules.shortNameRegistry !== null) {
    shortNames.registry = rules.shortNameRegistry.value;
    origins.push([['spec', 'shortNames', 'registry'], rules.shortNameRegistry.origins]);
  }
  if (rules.aliases.length > 0) {
    const aliases: Record<string, unknown> = isRecord(baseShort.aliases) ? { ...baseShort.aliases } : {};
    for (const alias of rules.aliases) {
      aliases[alias.value.shortName] = alias.value.target;
      origins.push([['spec', 'shortNames', 'aliases', alias.value.shortName], alias.origins]);
    }
    shortNames.aliases = aliases;
  }
  if (Object.keys(shortNames).length > 0) spec.shortNames = shortNames;

  if (rules.mirrors.length > 0) {
    spec.mirrors = append(
      ['spec', 'mirrors'],
      baseSpec.mirrors,
      rules.mirrors.map((m) => ({ value: mirrorValue(m.value), origins: m.origins })),
    );
  }

  const baseSources = isRecord(baseSpec.registrySources) ? baseSpec.registrySources : {};
  const sources: Record<string, unknown> = { ...baseSources };
  const lists = [
    ['allowedRegistries', rules.allowedRegistries],
    ['blockedRegistries', rules.blockedRegistries],
    ['insecureRegistries', rules.insecureRegistries],
  ] as const;
  for (const [field, items] of lists) {
    if (items === null || (items.length === 0 && field === 'insecureRegistries')) continue;
    sources[field] = append(['spec', 'registrySources', field], baseSources[field], items);
  }
  if (Object.keys(sources).length > 0) spec.registrySources = sources;

  const doc = new Document({
    apiVersion: POLICY_API_VERSION,
    kind: POLICY_KIND,
    metadata: isRecord(base?.metadata) ? base.metadata : { name: options.name ?? 'imported' },
    spec,
  });
  for (const [path, from] of origins) {
    const node = commentTarget(doc, path);
    if (node === null) continue;
    const comment = from.map((o) => ` ${ORIGIN_COMMENT} ${formatOrigin(o)}`).join('\n');
    node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${comment}` : comment;
  }
  for (const path of [
    ['spec', 'registrySources', 'allowedRegistries'],
    ['spec', 'registrySources', 'blockedRegistries'],
    ['spec', 'registrySources', 'insecureRegistries'],
  ]) {
    const seq = doc.getIn(path, true);
    if (isSeq(seq)) seq.flow = false;
  }
  if (rules.notes.length > 0) doc.commentBefore = rules.notes.map((n) => ` note: ${n}`).join('\n');
  return doc;
}

/** Prints a policy document: one rule a line, however long (a wrapped flow map is hard to read and to diff). */
export function policyText(doc: Document): string {
  return doc.toString({ lineWidth: 0 });
}

/**
 * The node a rule's comment goes before: a list item itself, or the key of a map entry (a comment between a
 * key and its scalar value would push the value onto a line of its own).
 */
function commentTarget(doc: Document, path: Path): Node | null {
  const node = doc.getIn(path, true);
  const parent = doc.getIn(path.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
    return pair !== undefined && isScalar(pair.key) ? pair.key : null;
  }
  if (isMap(node)) node.flow = true;
  return isMap(node) || isScalar(node) || isSeq(node) ? node : null;
}
