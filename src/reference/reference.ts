/** A parsed image reference: `domain/path[:tag][@digest]`. Fields hold exactly what was written. */
export interface ImageReference {
  /** Registry host with optional port; `''` only for the non-normalizing {@link parseReference}. */
  readonly domain: string;
  /** Repository path below the registry, e.g. `library/nginx`. */
  readonly path: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

export const DOCKER_HUB = 'docker.io';

/** `domain/path`: the repository, without tag or digest (distribution/reference's `Name()`). */
export function repositoryName(ref: ImageReference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

/** The full reference as a string (`String()`): keeps both tag and digest when both are given. */
export function formatReference(ref: ImageReference): string {
  let out = repositoryName(ref);
  if (ref.tag !== null) out += `:${ref.tag}`;
  if (ref.digest !== null) out += `@${ref.digest}`;
  return out;
}

/** The short form people write (`FamiliarString`): `nginx:1.27` for `docker.io/library/nginx:1.27`. */
export function familiarString(ref: ImageReference): string {
  let name = repositoryName(ref);
  if (ref.domain === DOCKER_HUB) {
    name = ref.path;
    const rest = name.startsWith('library/') ? name.slice('library/'.length) : null;
    if (rest !== null && !rest.includes('/')) name = rest;
  }
  return formatReference({ domain: '', path: name, tag: ref.tag, digest: ref.digest });
}
