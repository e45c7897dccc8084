import { canonicalHost, splitHostPort } from '../policy/host.js';
import { isRecord } from '../policy/index.js';
import type { SecretSnapshot } from './types.js';

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';

export type SourceProblemCode =
  'SOURCE_NOT_FOUND' | 'SOURCE_WRONG_TYPE' | 'SOURCE_MALFORMED' | 'SOURCE_NO_CREDENTIALS';

/** What is wrong with a source, for the log, a metric label and `/readyz`. Never holds a credential. */
export interface SourceProblem {
  readonly code: SourceProblemCode;
  readonly message: string;
}

export interface SourceCheck {
  /** Copies may be written: the Secret exists and is a docker config the kubelet can read. */
  readonly usable: boolean;
  readonly problems: readonly SourceProblem[];
}

/**
 * Checks that a source Secret is what the kubelet needs: type `kubernetes.io/dockerconfigjson`, a
 * `.dockerconfigjson` key holding `{"auths": {...}}`, and for every registry prefix of the policy an `auths` entry
 * that the kubelet would pick for images under it, holding credentials. A source without credentials for one of
 * its registries is still copied (the entry may be for a registry that also answers anonymously) but reported;
 * a source that is missing or not a docker config is not copied, and existing copies are left as they are.
 */
export function checkSource(secret: SecretSnapshot | undefined, registries: readonly string[]): SourceCheck {
  const fail = (code: SourceProblemCode, message: string): SourceCheck => ({
    usable: false,
    problems: [{ code, message }],
  });
  if (secret === undefined) return fail('SOURCE_NOT_FOUND', 'the source Secret does not exist');
  if (secret.type !== DOCKER_CONFIG_JSON_TYPE)
    return fail('SOURCE_WRONG_TYPE', `type is "${secret.type}", not ${DOCKER_CONFIG_JSON_TYPE}`);
  const encoded = secret.data[DOCKER_CONFIG_JSON_KEY];
  if (encoded === undefined) return fail('SOURCE_MALFORMED', `data has no ${DOCKER_CONFIG_JSON_KEY} key`);
  const auths = readAuths(encoded);
  if (typeof auths === 'string') return fail('SOURCE_MALFORMED', auths);
  const problems = registries.flatMap((registry): SourceProblem[] => {
    const entry = Object.entries(auths).find(([key]) => keyCovers(key, registry));
    if (entry === undefined)
      return [{ code: 'SOURCE_NO_CREDENTIALS', message: `auths has no entry for ${registry}` }];
    if (!hasCredentials(entry[1]))
      return [
        {
          code: 'SOURCE_NO_CREDENTIALS',
          message: `auths entry "${entry[0]}" for ${registry} holds no auth, username/password or identitytoken`,
        },
      ];
    return [];
  });
  return { usable: true, problems };
}

/** The `auths` map, or why it cannot be read. Error texts name structure only, never content. */
function readAuths(encoded: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return `${DOCKER_CONFIG_JSON_KEY} is not JSON`;
  }
  const auths = isRecord(parsed) ? parsed['auths'] : undefined;
  if (!isRecord(auths)) return `${DOCKER_CONFIG_JSON_KEY} has no "auths" map`;
  return auths;
}

function hasCredentials(entry: unknown): boolean {
  if (!isRecord(entry)) return false;
  const text = (key: string): string => (typeof entry[key] === 'string' ? entry[key] : '');
  if (text('auth') !== '') return Buffer.from(text('auth'), 'base64').toString('utf8').includes(':');
  return (text('username') !== '' && text('password') !== '') || text('identitytoken') !== '';
}

/**
 * Whether the kubelet would use the `auths` key for images under `registry` (k8s.io/kubernetes
 * pkg/credentialprovider keyring): the scheme is ignored, hosts match label by label with `*` standing for one
 * label, ports must be equal, and the key's path must be a prefix of the image path. Docker Hub's names are one.
 */
export function keyCovers(key: string, registry: string): boolean {
  const k = splitPath(key.replace(/^https?:\/\//i, ''));
  const r = splitPath(registry);
  if (canonicalHost(k.host) === 'docker.io' && /^v[12]\/?$/.test(k.path)) k.path = '';
  const kh = splitHostPort(k.host);
  const rh = splitHostPort(r.host);
  if ((kh.port ?? '') !== (rh.port ?? '')) return false;
  if (!hostsMatch(canonicalHost(kh.host), canonicalHost(rh.host))) return false;
  const keyPath = k.path.replace(/\/+$/, '');
  return keyPath === '' || r.path === keyPath || r.path.startsWith(`${keyPath}/`);
}

function splitPath(text: string): { host: string; path: string } {
  const slash = text.indexOf('/');
  return slash === -1
    ? { host: text, path: '' }
    : { host: text.slice(0, slash), path: text.slice(slash + 1) };
}

function hostsMatch(pattern: string, host: string): boolean {
  const p = pattern.split('.');
  const h = host.split('.');
  return p.length === h.length && p.every((label, i) => label === '*' || label === h[i]);
}
