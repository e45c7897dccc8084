import type { MirrorTarget } from '../policy/index.js';
import type { RegistryClient } from './client.js';
import type { CredentialStore } from './credentials.js';
import { credentialsFor } from './docker-config.js';

/**
 * Whether a mirror's injected pull secret works, as a closed set (a metric label, a `/readyz` word):
 * `ok` the credentials authenticate; `anonymous` no secret is injected and the mirror needs none; `missing` the
 * Secret is not there (or none is injected and the mirror asks for credentials); `malformed` it is not a docker
 * config with credentials for the mirror; `rejected` the mirror refused them (401/403); `unreachable` the mirror
 * could not be asked (the credentials are unknown, not bad).
 */
export type CredentialState = 'ok' | 'anonymous' | 'missing' | 'malformed' | 'rejected' | 'unreachable';
export const CREDENTIAL_STATES: readonly CredentialState[] = [
  'ok',
  'anonymous',
  'missing',
  'malformed',
  'rejected',
  'unreachable',
];

export interface CredentialHealth {
  readonly mirror: string;
  readonly state: CredentialState;
  /** The Secret whose credentials were tried, or the first one named; null when none is injected. */
  readonly secret: string | null;
  /** For people: names the Secret, the key and the HTTP status, never a credential. */
  readonly reason: string;
}

/**
 * `GET /v2/` on the mirror with the credentials a Pod would get for it (the first of its pull secrets with an
 * `auths` entry for the mirror, as the kubelet chooses), the token flow included. The store must have been
 * refreshed: this reads no Secret itself.
 */
export async function checkCredentialHealth(
  target: MirrorTarget,
  store: CredentialStore,
  client: RegistryClient,
  timeoutMs: number,
): Promise<CredentialHealth> {
  const { mirror } = target;
  const repository = `${target.registry}/${target.repository}`.replace(/\/$/, '');
  const problems: { state: 'missing' | 'malformed'; secret: string; reason: string }[] = [];
  let chosen: { secret: string; credentials: { username: string; password: string } } | null = null;
  for (const secret of target.secrets) {
    const read = store.get(secret);
    if (read === undefined || read.state !== 'ok') {
      problems.push({
        state: read?.state === 'malformed' ? 'malformed' : 'missing',
        secret,
        reason: `Secret ${secret}: ${read?.reason ?? 'not read'}`,
      });
      continue;
    }
    const found = credentialsFor(read.config, repository);
    if (found.ok) {
      chosen = { secret, credentials: found.credentials };
      break;
    }
    problems.push({ state: 'malformed', secret, reason: `Secret ${secret}: ${found.message}` });
  }
  if (chosen === null && problems.length > 0) {
    const first = problems.find((p) => p.state === 'missing') ?? problems[0]!;
    return {
      mirror,
      state: first.state,
      secret: first.secret,
      reason: problems.map((p) => p.reason).join('; '),
    };
  }
  const answer = await client.ping(target.registry, {
    signal: AbortSignal.timeout(timeoutMs),
    credentials: chosen?.credentials ?? null,
    insecure: target.insecure,
  });
  const secret = chosen?.secret ?? null;
  if (answer.status === 'ok') {
    return chosen === null
      ? {
          mirror,
          state: 'anonymous',
          secret,
          reason: 'no pull secret is injected for it; it answers without one',
        }
      : { mirror, state: 'ok', secret, reason: `Secret ${chosen.secret} authenticates` };
  }
  if (answer.status === 'rejected') {
    return chosen === null
      ? {
          mirror,
          state: 'missing',
          secret,
          reason: `no spec.pullSecrets entry covers it, and it asks for credentials (HTTP ${answer.httpStatus ?? 401})`,
        }
      : {
          mirror,
          state: 'rejected',
          secret,
          reason: `Secret ${chosen.secret}: the mirror refused its credentials (HTTP ${answer.httpStatus ?? 401})`,
        };
  }
  return { mirror, state: 'unreachable', secret, reason: answer.reason };
}
