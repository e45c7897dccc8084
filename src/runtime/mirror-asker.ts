import { readFile } from 'node:fs/promises';
import type { Metrics } from './metrics.js';
import type { CompiledPolicy, MirrorAnswer, MirrorLookup, MirrorTarget } from '../policy/index.js';
import { AnswerCache } from '../registry/answer-cache.js';
import { MirrorChecker } from '../registry/checker.js';
import { RegistryClient } from '../registry/client.js';
import { checkCredentialHealth, type CredentialHealth } from '../registry/credential-health.js';
import { CredentialStore, DirectorySecrets, type SecretSource } from '../registry/credentials.js';
import { Limiter } from '../registry/limiter.js';
import { TokenCache } from '../registry/token.js';
import { Transport } from '../registry/transport.js';

/** How serve (and explain, audit) ask mirrors; the flags of the same names. */
export interface MirrorOptions {
  /** `--pull-secrets-dir`: `DIR/<secretName>/.dockerconfigjson`; null reads the Secrets through the API. */
  readonly pullSecretsDir: string | null;
  /** `--mirror-ca-file`: PEM bundle trusted for mirrors, besides the platform's roots. */
  readonly caFile: string | null;
  /** Total time for one review's look-ups. */
  readonly budgetMs: number;
  /** One HTTP request's time (a look-up may make up to three, and a token request). */
  readonly requestTimeoutMs: number;
  /** Connections (and look-ups in flight) per mirror registry. */
  readonly concurrency: number;
  /** Answers remembered across reviews. */
  readonly cacheSize: number;
}

export const DEFAULT_MIRROR_OPTIONS: MirrorOptions = {
  pullSecretsDir: null,
  caFile: null,
  budgetMs: 2000,
  requestTimeoutMs: 1000,
  concurrency: 8,
  cacheSize: 4096,
};

/** Where pull secrets come from when no directory is given: the API, as serve's pull-secret options say. */
export interface ApiAccess {
  readonly kubeconfig: string | null;
  /** The gate's namespace: a pull secret without `from` is read there. */
  readonly namespace: string;
}

export class MirrorOptionError extends Error {}

/**
 * The registry adapter, wired: transport (with the private CA), client, token and answer caches, the per-mirror
 * limiter and the credentials of the policy's pull secrets. Shared by serve, explain and audit, so that all three
 * ask mirrors the same way.
 */
export class MirrorAsker {
  readonly store: CredentialStore;
  readonly client: RegistryClient;
  readonly checker: MirrorChecker;
  private readonly transport: Transport;

  private constructor(
    readonly options: MirrorOptions,
    caPem: string | undefined,
    source: SecretSource,
    metrics: Metrics | undefined,
  ) {
    this.transport = new Transport({ extraCaPem: caPem, maxSocketsPerHost: options.concurrency });
    this.client = new RegistryClient(this.transport, new TokenCache(), options.requestTimeoutMs);
    this.store = new CredentialStore(source);
    this.checker = new MirrorChecker({
      client: this.client,
      credentials: this.store,
      cache: new AnswerCache(options.cacheSize),
      limiter: new Limiter(options.concurrency),
      observer: metrics && {
        lookup: (mirror, result, seconds) => {
          metrics.mirrorLookups.inc({ mirror, result });
          metrics.mirrorLookupDuration.observe({ mirror }, seconds);
        },
        cacheHit: (mirror) => metrics.mirrorCacheHits.inc({ mirror }),
      },
    });
  }

  /** Reads the CA file; an unreadable file or one without a certificate is an error for the user. */
  static async create(
    options: MirrorOptions,
    api: ApiAccess | null,
    policy: () => CompiledPolicy | null,
    metrics?: Metrics,
  ): Promise<MirrorAsker> {
    let caPem: string | undefined;
    if (options.caFile !== null) {
      try {
        caPem = await readFile(options.caFile, 'utf8');
      } catch (err) {
        throw new MirrorOptionError(
          `cannot read --mirror-ca-file ${options.caFile}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      if (!caPem.includes('-----BEGIN CERTIFICATE-----'))
        throw new MirrorOptionError(`--mirror-ca-file ${options.caFile} holds no PEM certificate`);
    }
    const source =
      options.pullSecretsDir !== null
        ? new DirectorySecrets(options.pullSecretsDir)
        : await apiSecrets(api, policy);
    return new MirrorAsker(options, caPem, source, metrics);
  }

  /** Re-reads the policy's pull secrets; when they changed, answers and tokens asked with the old ones go. */
  async refresh(policy: CompiledPolicy): Promise<boolean> {
    const changed = await this.store.refresh(policy.spec.pullSecrets.map((p) => p.secretName));
    if (changed) this.checker.reset();
    return changed;
  }

  ask(lookups: readonly MirrorLookup[]): Promise<Map<string, MirrorAnswer>> {
    return this.checker.check(lookups, this.options.budgetMs);
  }

  health(targets: readonly MirrorTarget[]): Promise<CredentialHealth[]> {
    return Promise.all(
      targets.map((t) =>
        checkCredentialHealth(t, this.store, this.client, this.options.requestTimeoutMs * 3),
      ),
    );
  }

  close(): void {
    this.transport.close();
  }
}

/** Secrets through the API, imported only when needed (the client costs 0.6 s and ~70 MB). */
async function apiSecrets(api: ApiAccess | null, policy: () => CompiledPolicy | null): Promise<SecretSource> {
  const unavailable = (why: string): SecretSource => ({
    description: why,
    read: () => Promise.resolve({ state: 'missing', reason: why }),
  });
  if (api === null) return unavailable('no --pull-secrets-dir given');
  try {
    const [{ connect }, { KubeSecrets }] = await Promise.all([
      import('../kube/api-client.js'),
      import('../kube/pull-secret-source.js'),
    ]);
    const reader = connect({ kubeconfig: api.kubeconfig ?? undefined });
    return new KubeSecrets(reader, (secretName) => {
      const from = policy()?.spec.pullSecrets.find(
        (p) => p.secretName === secretName && p.from !== null,
      )?.from;
      return from ?? { namespace: api.namespace, name: secretName };
    });
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200) ?? '';
    return unavailable(`no --pull-secrets-dir and no API access (${reason})`);
  }
}
