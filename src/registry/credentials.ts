import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_CONFIG_JSON_KEY } from '../pull-secrets/docker-config.js';
import { credentialsFor, parseDockerConfig, type BasicCredentials } from './docker-config.js';

/** One pull secret as read: its docker config, or why there is none. Never a credential in `reason`. */
export type SecretState =
  | { readonly state: 'ok'; readonly config: unknown; readonly fingerprint: string }
  | { readonly state: 'missing' | 'malformed'; readonly reason: string };

/** Where the gate reads the pull secrets it injects: a directory laid out as mounted Secrets, or the API. */
export interface SecretSource {
  /** What the source is, for messages: `--pull-secrets-dir /etc/…`. */
  readonly description: string;
  read(secretName: string): Promise<SecretState>;
}

/**
 * `--pull-secrets-dir DIR`: each Secret as a mounted `kubernetes.io/dockerconfigjson` Secret lays it out,
 * `DIR/<secretName>/.dockerconfigjson` holding the docker config JSON itself (not base64).
 */
export class DirectorySecrets implements SecretSource {
  readonly description: string;
  constructor(private readonly dir: string) {
    this.description = `--pull-secrets-dir ${dir}`;
  }

  async read(secretName: string): Promise<SecretState> {
    // A Secret name is a DNS subdomain (validated with the policy): it cannot climb out of the directory.
    const file = join(this.dir, secretName, DOCKER_CONFIG_JSON_KEY);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return {
        state: 'missing',
        reason:
          code === 'ENOENT'
            ? `${file} does not exist`
            : `${file} cannot be read (${typeof code === 'string' ? code : 'error'})`,
      };
    }
    return stateOf(text, file);
  }
}

/** A docker config's text as a SecretState; exported for sources that get the text elsewhere (the API). */
export function stateOf(text: string, where: string): SecretState {
  const parsed = parseDockerConfig(text);
  if (!parsed.ok) return { state: 'malformed', reason: `${where} ${parsed.message}` };
  const fingerprint = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { state: 'ok', config: parsed.config, fingerprint };
}

export type CredentialChoice =
  | { readonly credentials: BasicCredentials | null; readonly fingerprint: string }
  | { readonly credentials: null; readonly fingerprint: 'anonymous'; readonly problem: string };

/**
 * The pull secrets of the policy, read once per refresh (at start, on reload, on the health period) so that a
 * look-up never touches the disk or the API. A look-up takes the credentials of the first secret, in policy
 * order, with an `auths` entry for the repository, as the kubelet tries the pod's pull secrets.
 */
export class CredentialStore {
  private secrets = new Map<string, SecretState>();
  /** Counts reads that changed something: what a memo of credential-dependent keys compares against. */
  generation = 0;
  /** choose()'s answers for this read of the secrets: a warm look-up must not decode base64 every time. */
  private readonly chosen = new Map<string, CredentialChoice>();

  constructor(readonly source: SecretSource) {}

  /** Reads every named secret again; true when anything differs from the last read (caches must go). */
  async refresh(names: readonly string[]): Promise<boolean> {
    const next = new Map<string, SecretState>();
    for (const name of new Set(names)) next.set(name, await this.source.read(name));
    const changed = signature(next) !== signature(this.secrets);
    this.secrets = next;
    this.chosen.clear();
    if (changed) this.generation++;
    return changed;
  }

  get(name: string): SecretState | undefined {
    return this.secrets.get(name);
  }

  /** Credentials for `registry/repository` from the first of `secretNames` that has an entry for it. */
  choose(secretNames: readonly string[], repository: string): CredentialChoice {
    const key = `${secretNames.join(',')}\n${repository}`;
    let choice = this.chosen.get(key);
    if (choice === undefined) {
      choice = this.pick(secretNames, repository);
      if (this.chosen.size >= 4096) this.chosen.clear(); // bounded: repositories come from workloads
      this.chosen.set(key, choice);
    }
    return choice;
  }

  private pick(secretNames: readonly string[], repository: string): CredentialChoice {
    const problems: string[] = [];
    for (const name of secretNames) {
      const secret = this.secrets.get(name);
      if (secret === undefined || secret.state !== 'ok') {
        problems.push(`${name}: ${secret?.reason ?? 'not read yet'}`);
        continue;
      }
      const found = credentialsFor(secret.config, repository);
      if (found.ok) return { credentials: found.credentials, fingerprint: `${name}@${secret.fingerprint}` };
      problems.push(`${name}: ${found.message}`);
    }
    return problems.length === 0
      ? { credentials: null, fingerprint: 'anonymous' }
      : { credentials: null, fingerprint: 'anonymous', problem: problems.join('; ') };
  }
}

function signature(secrets: ReadonlyMap<string, SecretState>): string {
  return [...secrets]
    .map(([name, s]) => `${name}=${s.state === 'ok' ? s.fingerprint : `${s.state}:${s.reason}`}`)
    .sort()
    .join('\n');
}
