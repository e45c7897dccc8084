import type { ImageReference } from '../reference/index.js';
import { canonicalHostPort } from './host.js';
import type { RegistryEntry } from './entry.js';
import type { ImageKey } from './rule-index.js';

/**
 * The key a reference is matched with. An image with neither tag nor digest is what the kubelet pulls as
 * `:latest`, so it is judged as `:latest` against entries that name a tag.
 */
export function imageKey(ref: ImageReference): ImageKey {
  const { host, port } = canonicalHostPort(ref.domain);
  return {
    host,
    port,
    path: ref.path.split('/'),
    tag: ref.tag ?? (ref.digest === null ? 'latest' : null),
    digest: ref.digest,
  };
}

/** A registry or repository prefix (a mirror target) as a key: no tag or digest, so only prefix entries cover it. */
export function entryKey(entry: RegistryEntry): ImageKey {
  return { host: entry.host, port: entry.port, path: entry.path, tag: null, digest: null };
}

/**
 * The key for rules that let an image through (allowedRegistries, image exemptions). With a digest the runtime
 * pulls by digest and ignores the tag, so `app:latest@sha256:…` may be any content of the repository: an entry
 * naming a tag must not let it through (containers/image refuses such a reference outright). Blocking rules keep
 * the tag, so that a blocked tag stays blocked with a digest glued on.
 */
export function pulledByDigestKey(key: ImageKey): ImageKey {
  return key.digest === null ? key : { ...key, tag: null };
}
