import { keyCovers } from '../pull-secrets/docker-config.js';
import { isRecord } from '../policy/index.js';

/** A user name and password (a robot account, or `<token>` as the password of a token-only registry). */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

export type CredentialProblem = 'MALFORMED' | 'NO_ENTRY' | 'NO_CREDENTIALS';

export type CredentialLookup =
  | { readonly ok: true; readonly credentials: BasicCredentials; readonly key: string }
  | { readonly ok: false; readonly code: CredentialProblem; readonly message: string };

/**
 * The credentials a docker config (`{"auths": {...}}`, the `.dockerconfigjson` of a
 * `kubernetes.io/dockerconfigjson` Secret or `$DOCKER_CONFIG/config.json`) gives for a repository
 * (`host[:port]/path`), chosen as the kubelet chooses: among the `auths` keys that cover the repository
 * (pull-secrets/docker-config.ts keyCovers), the first in reverse lexicographic order of the key without its
 * scheme (k8s.io/kubernetes pkg/credentialprovider keyring.go, which sorts so that a key with a path comes
 * before its host, and a host before a `*` glob). An entry holds either `auth`
 * (base64 of `user:password`) or `username` and `password`.
 *
 * Messages name keys and structure only, never a credential: they go to logs, `/readyz` and metrics.
 * `identitytoken` entries (OAuth2 refresh tokens) are reported as holding no credentials this client can use.
 */
export function credentialsFor(config: unknown, repository: string): CredentialLookup {
  const fail = (code: CredentialProblem, message: string): CredentialLookup => ({ ok: false, code, message });
  if (!isRecord(config) || !isRecord(config['auths'])) return fail('MALFORMED', 'has no "auths" map');
  const keys = Object.keys(config['auths'])
    .filter((key) => keyCovers(key, repository))
    .sort((a, b) => (schemeless(a) < schemeless(b) ? 1 : schemeless(a) > schemeless(b) ? -1 : 0));
  const key = keys[0];
  if (key === undefined) return fail('NO_ENTRY', `auths has no entry for ${repository}`);
  const entry = config['auths'][key];
  const text = (field: string): string =>
    isRecord(entry) && typeof entry[field] === 'string' ? entry[field] : '';
  if (text('auth') !== '') {
    const decoded = Buffer.from(text('auth'), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return fail('MALFORMED', `auths["${key}"].auth is not base64 of user:password`);
    return {
      ok: true,
      key,
      credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) },
    };
  }
  if (text('username') !== '' && text('password') !== '')
    return { ok: true, key, credentials: { username: text('username'), password: text('password') } };
  return fail('NO_CREDENTIALS', `auths["${key}"] holds neither auth nor username and password`);
}

/** Parses the text of a docker config file; a syntax error is MALFORMED (without quoting the text). */
export function parseDockerConfig(
  text: string,
): { ok: true; config: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, config: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, message: 'is not JSON' };
  }
}

function schemeless(key: string): string {
  return key.replace(/^https?:\/\//i, '');
}
