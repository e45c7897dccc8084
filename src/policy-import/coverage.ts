import { parseRegistryEntry } from '../policy/entry.js';
import { entryKey } from '../policy/image-key.js';
import { RuleIndex } from '../policy/rule-index.js';

/**
 * The first of `entries` (registrySources syntax) that covers the repository prefix `target`, matched exactly as
 * the engine matches a mirror target; null when none does or `target` is not an entry.
 */
export function coveringEntry(entries: readonly string[], target: string): string | null {
  const parsedTarget = parseRegistryEntry(target, { allowTagAndDigest: false });
  if (!parsedTarget.ok || parsedTarget.entry.wildcard) return null;
  const index = new RuleIndex<string>();
  for (const text of entries) {
    const parsed = parseRegistryEntry(text, { allowTagAndDigest: true });
    if (parsed.ok) index.add(parsed.entry, text);
  }
  return index.matchFirst(entryKey(parsedTarget.entry))?.value ?? null;
}
