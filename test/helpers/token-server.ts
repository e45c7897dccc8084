import { X509Certificate, createPrivateKey, sign } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Issued } from '../../src/certs/issue.js';

export interface TokenServer {
  readonly realm: string;
  /** Token requests received, with the account they named (or null when anonymous). */
  readonly requests: { account: string | null; scope: string[] }[];
  /** Issue this many already-expired tokens next (claiming a long `expires_in`), as a registry clock skew would. */
  issueExpired: number;
  /** `expires_in` of the tokens issued. */
  expiresIn: number;
  setPassword(user: string, password: string): void;
  stop(): Promise<void>;
}

/**
 * A token server after the distribution token specification (docs/spec/auth/token.md, jwt.md): `GET /token?
 * service=…&scope=…` with HTTP Basic, answered with an ES256 JWT whose `access` claim grants what the scopes ask
 * for, signed with the key of `signing` and carrying its certificate in `x5c` (the registry trusts it through
 * `rootcertbundle`).
 */
export async function startTokenServer(options: {
  tls: Issued;
  signing: Issued;
  issuer: string;
  service: string;
  users: Record<string, string>;
}): Promise<TokenServer> {
  const users = new Map(Object.entries(options.users));
  const key = createPrivateKey(options.signing.key);
  const x5c = [new X509Certificate(options.signing.cert).raw.toString('base64')];
  const state = { requests: [] as TokenServer['requests'], issueExpired: 0, expiresIn: 300 };
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const header = req.headers.authorization ?? '';
    let account: string | null = null;
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      if (colon < 0 || users.get(user) !== decoded.slice(colon + 1)) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        state.requests.push({ account: user, scope: url.searchParams.getAll('scope') });
        return;
      }
      account = user;
    }
    const scopes = url.searchParams.getAll('scope');
    state.requests.push({ account, scope: scopes });
    // Anonymous callers get a token without access, as Docker Hub-style servers do.
    const access = account === null ? [] : scopes.flatMap(parseScope);
    const now = Math.floor(Date.now() / 1000);
    const expired = state.issueExpired > 0;
    if (expired) state.issueExpired--;
    // distribution allows 60 s of leeway on exp: an expired token is well past it.
    const exp = expired ? now - 300 : now + state.expiresIn;
    const token = jwt(key, x5c, {
      iss: options.issuer,
      sub: account ?? '',
      aud: url.searchParams.get('service') ?? '',
      exp,
      nbf: now - 600,
      iat: now,
      jti: `${now}-${state.requests.length}`,
      access,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: state.expiresIn,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `https://127.0.0.1:${port}/token`,
    get requests() {
      return state.requests;
    },
    get issueExpired() {
      return state.issueExpired;
    },
    set issueExpired(n: number) {
      state.issueExpired = n;
    },
    get expiresIn() {
      return state.expiresIn;
    },
    set expiresIn(n: number) {
      state.expiresIn = n;
    },
    setPassword(user, password) {
      users.set(user, password);
    },
    stop: () => closeServer(server),
  };
}

/** `repository:app/one:pull,push` → the `access` claim entry. */
function parseScope(scope: string): { type: string; name: string; actions: string[] }[] {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return [];
  return [
    {
      type: scope.slice(0, first),
      name: scope.slice(first + 1, last),
      actions: scope.slice(last + 1).split(','),
    },
  ];
}

function jwt(
  key: ReturnType<typeof createPrivateKey>,
  x5c: string[],
  claims: Record<string, unknown>,
): string {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64({ alg: 'ES256', typ: 'JWT', x5c })}.${b64(claims)}`;
  // JWS ES256 is the raw r||s pair (RFC 7518 3.4), not DER.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
