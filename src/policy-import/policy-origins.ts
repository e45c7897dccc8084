import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ORIGIN_COMMENT } from './policy-document.js';

/**
 * The `# origin: …` comments of a policy file (written by `policy import`), by field path
 * (`spec.mirrors[0]`, `spec.registrySources.blockedRegistries[2]`, `spec.shortNames.registry`). A hand-written
 * policy has none and gives an empty map; comments are documentation, so a file without them is just as valid.
 */
export function readPolicyOrigins(text: string): ReadonlyMap<string, readonly string[]> {
  const found = new Map<string, string[]>();
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return found;
  // When parsed back, the comment before the first item of a collection belongs to the collection itself.
  const note = (path: string, node: Node | null | undefined, first: Node | null = null): void => {
    const lines = (node?.commentBefore || first?.commentBefore || '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith(ORIGIN_COMMENT))
      .map((l) => l.slice(ORIGIN_COMMENT.length).trim());
    if (lines.length > 0) found.set(path, lines);
  };
  const items = (path: readonly string[], at: string): void => {
    const seq = doc.getIn(path, true);
    if (!isSeq(seq)) return;
    seq.items.forEach((item, i) =>
      note(`${at}[${i}]`, isScalar(item) || isMap(item) ? item : null, i === 0 ? seq : null),
    );
  };
  const keys = (path: readonly string[], at: string): void => {
    const map = doc.getIn(path, true);
    if (!isMap(map)) return;
    map.items.forEach((pair, i) => {
      if (isScalar(pair.key)) note(`${at}.${String(pair.key.value)}`, pair.key, i === 0 ? map : null);
    });
  };
  items(['spec', 'mirrors'], 'spec.mirrors');
  for (const list of ['allowedRegistries', 'blockedRegistries', 'insecureRegistries']) {
    items(['spec', 'registrySources', list], `spec.registrySources.${list}`);
  }
  keys(['spec', 'shortNames'], 'spec.shortNames');
  keys(['spec', 'shortNames', 'aliases'], 'spec.shortNames.aliases');
  return found;
}
