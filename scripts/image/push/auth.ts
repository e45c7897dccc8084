import { ImageError } from '../errors.js';
import type { BasicCredentials } from './credentials.js';

/**
 * The `Authorization` header for a registry that answered `401` with `challenge` (its `WWW-Authenticate`,
 * RFC 7235), or `undefined` for a registry that let us in anonymously (no challenge). HTTP Basic only (RFC 7617):
 * a Bearer challenge (the distribution token flow, which Docker Hub and most clouds use) is a one-line
 * `AUTH_UNSUPPORTED` error until the product's registry client (src/registry, issue 22) can lend its token flow here.
 */
export function authorization(
  registry: string,
  challenge: string | undefined,
  credentials: BasicCredentials | undefined,
): string | undefined {
  if (challenge === undefined) return undefined;
  const scheme = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)/.exec(challenge)?.[1]?.toLowerCase();
  if (scheme === 'bearer')
    throw new ImageError(
      'AUTH_UNSUPPORTED',
      `${registry} asks for a Bearer token (the distribution token flow), which the image push does not speak yet; push to a registry with HTTP Basic auth, or with crane/skopeo from dist-image/oci`,
    );
  if (scheme !== 'basic')
    throw new ImageError(
      'AUTH_UNSUPPORTED',
      `${registry} asks for "${scheme ?? challenge}" authentication; the image push speaks HTTP Basic only`,
    );
  if (credentials === undefined)
    throw new ImageError(
      'UNAUTHORIZED',
      `${registry} asks for credentials and the docker config.json ($DOCKER_CONFIG) has none for it`,
    );
  const token = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
  return `Basic ${token}`;
}
