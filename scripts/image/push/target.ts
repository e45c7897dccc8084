import { parseNormalizedReference } from '../../../src/reference/index.js';
import { ImageError } from '../errors.js';

export interface PushTarget {
  /** `host[:port]`, as the credentials are keyed. */
  readonly registry: string;
  /** Where the distribution API answers: Docker Hub's API is not at `docker.io`. */
  readonly apiHost: string;
  readonly repository: string;
  readonly tag: string;
}

/**
 * `--push REF`: a reference with a tag (`127.0.0.1:5000/registry-gate/registry-gate:0.1.0`; `latest` when none is
 * given), normalized as docker does. A digest cannot be pushed to (the digest is the image's), so it is refused.
 */
export function parsePushTarget(ref: string): PushTarget {
  const parsed = parseNormalizedReference(ref);
  if (!parsed.ok) throw new ImageError('USAGE', `--push ${ref}: ${parsed.error.message}`);
  if (parsed.ref.digest !== null)
    throw new ImageError('USAGE', `--push ${ref}: give a tag, not a digest (the digest is the image's own)`);
  const registry = parsed.ref.domain;
  return {
    registry,
    apiHost: registry === 'docker.io' ? 'registry-1.docker.io' : registry,
    repository: parsed.ref.path,
    tag: parsed.ref.tag ?? 'latest',
  };
}

export function formatTarget(target: PushTarget): string {
  return `${target.registry}/${target.repository}:${target.tag}`;
}
