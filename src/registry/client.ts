import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { MirrorAnswer } from '../policy/index.js';
import type { BasicCredentials } from './docker-config.js';
import { TokenCache, basicAuthorization, fetchToken, type TokenRequest } from './token.js';
import { TransportError, type Reply, type Transport } from './transport.js';
import { parseChallenges } from './www-authenticate.js';

/**
 * The manifest media types a node accepts (containerd, CRI-O): OCI image index and manifest, Docker manifest
 * list and schema 2 manifest. Sent on every look-up so that the registry answers with, and names the digest of,
 * exactly what the node will pull: a manifest list's digest for a multi-platform tag.
 */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface AskOptions {
  /** Aborted when the review's budget is spent; each request also has its own timeout. */
  readonly signal: AbortSignal;
  readonly credentials: BasicCredentials | null;
  /** The policy lists the registry in `insecureRegistries`: TLS without verification, as the node does. */
  readonly insecure: boolean;
}

export type PingAnswer =
  | { readonly status: 'ok'; readonly httpStatus: number }
  | { readonly status: 'rejected' | 'error'; readonly httpStatus: number | null; readonly reason: string };

/** How a registry wants to be authenticated, learnt from its first 401 and used up front from then on. */
type Scheme =
  | { readonly kind: 'basic' }
  | { readonly kind: 'bearer'; readonly realm: string; readonly service: string | null };

type Authorized = { readonly reply: Reply } | { readonly failure: Exclude<PingAnswer, { status: 'ok' }> };

/**
 * Asks registries what a node would be told: `HEAD /v2/<name>/manifests/<reference>` (does the image exist, and
 * which digest does it have) and `GET /v2/` (do these credentials work), authenticated as the node is, with HTTP
 * Basic or the distribution token flow (docs/spec/auth/token.md: 401 with `WWW-Authenticate: Bearer realm=…,
 * service=…,scope=…` → token → retry). The scheme a registry asked for is remembered, so a steady look-up is one
 * request; a refused cached token is dropped and fetched again once.
 */
export class RegistryClient {
  private readonly schemes = new LRUCache<string, Scheme>({ max: 256 });

  constructor(
    private readonly transport: Transport,
    private readonly tokens: TokenCache,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Does `registry` serve `repository` at `reference` (a tag or a digest), and with which digest? */
  async headManifest(
    registry: string,
    repository: string,
    reference: string,
    options: AskOptions,
  ): Promise<MirrorAnswer> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const scope = `repository:${repository}:pull`;
    try {
      const head = await this.authorized('HEAD', registry, path, scope, options);
      if ('failure' in head) return { ...head.failure, status: 'error' };
      const { reply } = head;
      if (reply.status === 404)
        return { status: 'missing', httpStatus: 404, reason: 'not in the mirror (HTTP 404)' };
      if (reply.status !== 200)
        return { status: 'error', httpStatus: reply.status, reason: httpReason(reply, options) };
      if (DIGEST.test(reference)) return { status: 'found', digest: reference, httpStatus: 200 };
      const digest = header(reply, 'docker-content-digest');
      if (digest !== null && DIGEST.test(digest)) return { status: 'found', digest, httpStatus: 200 };
      // A registry that does not name the digest on HEAD: the digest is that of the manifest's bytes.
      const get = await this.authorized('GET', registry, path, scope, options);
      if ('failure' in get) return { ...get.failure, status: 'error' };
      if (get.reply.status !== 200)
        return { status: 'error', httpStatus: get.reply.status, reason: httpReason(get.reply, options) };
      return {
        status: 'found',
        digest: `sha256:${createHash('sha256').update(get.reply.body).digest('hex')}`,
        httpStatus: 200,
      };
    } catch (err) {
      if (err instanceof TransportError)
        return { status: 'error', httpStatus: null, reason: transportReason(err) };
      throw err;
    }
  }

  /** `GET /v2/` with the credentials: 200 when they work (token flow included). */
  async ping(registry: string, options: AskOptions): Promise<PingAnswer> {
    try {
      const got = await this.authorized('GET', registry, '/v2/', null, options);
      if ('failure' in got) return got.failure;
      const { reply } = got;
      if (reply.status === 200) return { status: 'ok', httpStatus: 200 };
      const status = reply.status === 401 || reply.status === 403 ? 'rejected' : 'error';
      return { status, httpStatus: reply.status, reason: httpReason(reply, options) };
    } catch (err) {
      if (err instanceof TransportError)
        return { status: 'error', httpStatus: null, reason: transportReason(err) };
      throw err;
    }
  }

  /** Forgets learnt schemes and tokens: after a change of credentials or trust. */
  reset(): void {
    this.schemes.clear();
    this.tokens.clear();
  }

  private async authorized(
    method: 'GET' | 'HEAD',
    registry: string,
    path: string,
    scope: string | null,
    options: AskOptions,
  ): Promise<Authorized> {
    const url = new URL(`https://${registryHost(registry)}${path}`);
    const known = this.schemes.get(registry);
    let auth = known === undefined ? null : await this.authorization(known, scope, options);
    if (auth !== null && 'failure' in auth) return auth;
    // At most three sends: as is, with what the 401 asked for, and once more with a fresh token when the registry
    // refused a token (expired early, a clock apart). Never twice with the same Authorization.
    for (let attempt = 0; ; attempt++) {
      const reply = await this.transport.send(url, {
        method,
        headers: {
          accept: MANIFEST_ACCEPT,
          ...(auth === null ? {} : { authorization: auth.header }),
        },
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
        maxBodyBytes: method === 'GET' ? MAX_MANIFEST_BYTES : 0,
        insecure: options.insecure,
      });
      if (reply.status !== 401 || attempt === 2) return { reply };
      const scheme = schemeOf(reply);
      if (scheme === null) return { reply };
      this.schemes.set(registry, scheme);
      if (auth?.tokenKey !== undefined) this.tokens.delete(auth.tokenKey);
      const next = await this.authorization(scheme, scopeOf(reply) ?? scope, options);
      if (next !== null && 'failure' in next) return next;
      // Nothing new to offer (no credentials for Basic, or the same ones again): the 401 is the answer.
      if (next === null || next.header === auth?.header) return { reply };
      auth = next;
    }
  }

  /** The Authorization header for a scheme: Basic from the credentials, Bearer from the cache or the realm. */
  private async authorization(
    scheme: Scheme,
    scope: string | null,
    options: AskOptions,
  ): Promise<
    { header: string; tokenKey?: string } | { failure: Exclude<PingAnswer, { status: 'ok' }> } | null
  > {
    if (scheme.kind === 'basic')
      return options.credentials === null ? null : { header: basicAuthorization(options.credentials) };
    const request: TokenRequest = { realm: scheme.realm, service: scheme.service, scope };
    const tokenKey = TokenCache.key(request, options.credentials);
    const cached = this.tokens.get(tokenKey);
    if (cached !== undefined) return { header: `Bearer ${cached}`, tokenKey };
    const got = await fetchToken(this.transport, request, options.credentials, {
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
      insecure: options.insecure,
    });
    if (!got.ok) {
      return {
        failure: {
          status: got.rejected ? 'rejected' : 'error',
          httpStatus: got.httpStatus,
          reason: got.reason,
        },
      };
    }
    this.tokens.set(tokenKey, got.token, got.expiresIn);
    return { header: `Bearer ${got.token}`, tokenKey };
  }
}

/** Docker Hub's registry API is not served at `docker.io` itself. */
function registryHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

function header(reply: Reply, name: string): string | null {
  const value = reply.headers[name];
  return typeof value === 'string' ? value : null;
}

/** The challenge to answer: Bearer when offered (what the registry prefers), else Basic. */
function schemeOf(reply: Reply): Scheme | null {
  const challenges = parseChallenges(header(reply, 'www-authenticate') ?? '');
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm'] !== undefined);
  if (bearer !== undefined)
    return { kind: 'bearer', realm: bearer.params['realm'] ?? '', service: bearer.params['service'] ?? null };
  return challenges.some((c) => c.scheme === 'basic') ? { kind: 'basic' } : null;
}

function scopeOf(reply: Reply): string | null {
  const bearer = parseChallenges(header(reply, 'www-authenticate') ?? '').find((c) => c.scheme === 'bearer');
  return bearer?.params['scope'] ?? null;
}

function httpReason(reply: Reply, options: AskOptions): string {
  if (reply.status === 401)
    return options.credentials === null
      ? 'the mirror asks for credentials and the pull secret has none for it (HTTP 401)'
      : 'the mirror refused the pull secret’s credentials (HTTP 401)';
  if (reply.status === 403) return 'the pull secret’s credentials may not pull this (HTTP 403)';
  return `the mirror answered HTTP ${reply.status}`;
}

function transportReason(err: TransportError): string {
  switch (err.code) {
    case 'BUDGET':
      return 'the time budget for mirror look-ups was spent';
    case 'TIMEOUT':
      return 'the mirror did not answer in time';
    default:
      return err.message;
  }
}
