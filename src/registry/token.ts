import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { BasicCredentials } from './docker-config.js';
import { TransportError, type Transport } from './transport.js';

/** What a `Bearer` challenge asks for: where to get a token, for which service and scope. */
export interface TokenRequest {
  readonly realm: string;
  readonly service: string | null;
  /** `repository:<name>:pull`, or null for a token without access (`GET /v2/`). */
  readonly scope: string | null;
}

export type TokenResult =
  | { readonly ok: true; readonly token: string; readonly expiresIn: number }
  | {
      readonly ok: false;
      /** 401/403 from the token server: the credentials were refused (a named reason, not an outage). */
      readonly rejected: boolean;
      readonly httpStatus: number | null;
      readonly reason: string;
    };

/** The distribution token specification: `expires_in` defaults to 60 seconds when the server omits it. */
const DEFAULT_EXPIRES_IN_S = 60;
/** A token is not used in its last seconds: the request it goes with must still arrive before it expires. */
const EXPIRY_MARGIN_S = 5;
const MAX_TOKEN_ANSWER_BYTES = 64 * 1024;

/**
 * Bearer tokens, kept until the `expires_in` the token server gave (less a margin), per realm, service, scope and
 * credentials: a rotated password never reuses a token the old one got. Bounded, oldest first out.
 */
export class TokenCache {
  private readonly tokens: LRUCache<string, string>;

  constructor(capacity = 1024) {
    this.tokens = new LRUCache<string, string>({ max: capacity });
  }

  static key(request: TokenRequest, credentials: BasicCredentials | null): string {
    // A hash, so that the cache's keys never hold a password in the clear (heap dumps, debuggers).
    const who =
      credentials === null
        ? 'anonymous'
        : createHash('sha256').update(`${credentials.username}\n${credentials.password}`).digest('hex');
    return `${request.realm}\n${request.service ?? ''}\n${request.scope ?? ''}\n${who}`;
  }

  get(key: string): string | undefined {
    return this.tokens.get(key);
  }

  set(key: string, token: string, expiresInSeconds: number): void {
    const ttl = (expiresInSeconds - EXPIRY_MARGIN_S) * 1000;
    if (ttl > 0) this.tokens.set(key, token, { ttl });
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }

  clear(): void {
    this.tokens.clear();
  }
}

/**
 * Gets a token as the distribution token specification says (docs/spec/auth/token.md): `GET <realm>?service=…
 * &scope=…` with the credentials as HTTP Basic (none for an anonymous token), answered with JSON holding `token`
 * (or OAuth2's `access_token`) and `expires_in`. Credentials go only to an https realm.
 */
export async function fetchToken(
  transport: Transport,
  request: TokenRequest,
  credentials: BasicCredentials | null,
  options: { signal: AbortSignal; insecure: boolean },
): Promise<TokenResult> {
  let url: URL;
  try {
    url = new URL(request.realm);
  } catch {
    return { ok: false, rejected: false, httpStatus: null, reason: 'the token realm is not a URL' };
  }
  if (url.protocol !== 'https:')
    return {
      ok: false,
      rejected: false,
      httpStatus: null,
      reason: `the token realm is not https (${url.origin})`,
    };
  if (request.service !== null) url.searchParams.set('service', request.service);
  if (request.scope !== null) url.searchParams.set('scope', request.scope);
  if (credentials !== null) url.searchParams.set('account', credentials.username);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credentials !== null) headers['authorization'] = basicAuthorization(credentials);
  let reply;
  try {
    reply = await transport.send(url, {
      method: 'GET',
      headers,
      signal: options.signal,
      maxBodyBytes: MAX_TOKEN_ANSWER_BYTES,
      insecure: options.insecure,
    });
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return {
      ok: false,
      rejected: false,
      httpStatus: null,
      reason: `token server ${url.host}: ${err.message}`,
    };
  }
  if (reply.status === 401 || reply.status === 403) {
    return {
      ok: false,
      rejected: true,
      httpStatus: reply.status,
      reason: `the token server ${url.host} refused the credentials (HTTP ${reply.status})`,
    };
  }
  if (reply.status !== 200) {
    return {
      ok: false,
      rejected: false,
      httpStatus: reply.status,
      reason: `the token server ${url.host} answered HTTP ${reply.status}`,
    };
  }
  const grant = readGrant(reply.body.toString('utf8'));
  if (grant === null)
    return {
      ok: false,
      rejected: false,
      httpStatus: 200,
      reason: `the token server ${url.host} sent no token`,
    };
  return { ok: true, token: grant.token, expiresIn: grant.expiresIn };
}

function readGrant(text: string): { token: string; expiresIn: number } | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const { token, access_token: accessToken, expires_in: expiresIn } = body as Record<string, unknown>;
  const value = typeof token === 'string' && token !== '' ? token : accessToken;
  if (typeof value !== 'string' || value === '') return null;
  const seconds =
    typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
      ? expiresIn
      : DEFAULT_EXPIRES_IN_S;
  return { token: value, expiresIn: seconds };
}

export function basicAuthorization(credentials: BasicCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
