import { isDomain } from '../reference/grammar.js';
import { parseReference } from '../reference/index.js';
import { canonicalHostPort } from './host.js';

/**
 * One registry entry, as written in `registrySources`, `exemptions.images`, a mirror `source` or a pull-secret
 * `registry`: `host`, `host:port`, `*.domain`, `host/namespace`, `host/repo`, `host/repo:tag`, `host/repo@digest`.
 */
export interface RegistryEntry {
  /** The entry as the user wrote it, for messages. */
  readonly text: string;
  /** Canonical host (lower case, Docker Hub's names folded); for a wildcard, the suffix after `*.`. */
  readonly host: string;
  readonly wildcard: boolean;
  /** Canonical port (no leading zeros); null: every port of the host. */
  readonly port: string | null;
  readonly path: readonly string[];
  readonly tag: string | null;
  readonly digest: string | null;
}

export type EntryResult = { ok: true; entry: RegistryEntry } | { ok: false; reason: string };

export interface EntryOptions {
  /** Mirror sources and pull-secret prefixes name repositories, never single tags or digests. */
  readonly allowTagAndDigest: boolean;
}

export function parseRegistryEntry(text: string, options: EntryOptions): EntryResult {
  const fail = (why: string): EntryResult => ({ ok: false, reason: `"${text}": ${why}` });
  if (text.length === 0) return fail('empty entry');
  if (text.startsWith('*.')) {
    const suffix = text.slice(2);
    if (/[/@:]/.test(suffix) || !isDomain(suffix)) {
      return fail('a wildcard entry is "*.domain" only, with no port, path, tag or digest');
    }
    return {
      ok: true,
      entry: {
        text,
        host: suffix.toLowerCase(),
        wildcard: true,
        port: null,
        path: [],
        tag: null,
        digest: null,
      },
    };
  }
  if (text.includes('*')) return fail('"*" is allowed only as a leading "*." label');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return fail('write a registry, not a URL (no scheme)');
  const slash = text.indexOf('/');
  const domain = slash === -1 ? text : text.slice(0, slash);
  if (!isDomain(domain)) return fail(`"${domain}" is not a registry host or host:port`);
  const base = { text, ...canonicalHostPort(domain), wildcard: false };
  if (slash === -1) return { ok: true, entry: { ...base, path: [], tag: null, digest: null } };

  const parsed = parseReference(text);
  if (!parsed.ok) return fail(parsed.error.message);
  if (parsed.ref.domain !== domain) return fail(`"${domain}" is not a registry host or host:port`);
  if (!options.allowTagAndDigest && (parsed.ref.tag !== null || parsed.ref.digest !== null)) {
    return fail('a tag or digest is not allowed here: name a registry or repository prefix');
  }
  return {
    ok: true,
    entry: { ...base, path: parsed.ref.path.split('/'), tag: parsed.ref.tag, digest: parsed.ref.digest },
  };
}
