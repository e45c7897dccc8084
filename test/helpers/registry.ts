import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, request, type Server as HttpsServer } from 'node:https';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { issueCertificateAuthority, issueServingCertificate, type Issued } from '../../src/certs/issue.js';
import type { RegistryTools } from './registry-tools.js';

const run = promisify(execFile);

/** A CA, and serving certificates it signed, written to `dir` for the registry and crane to read. */
export interface TestPki {
  readonly ca: Issued;
  readonly caFile: string;
  serving(
    name: string,
    names: { dns: string[]; ips: string[] },
  ): Promise<{ certFile: string; keyFile: string; issued: Issued }>;
}

export async function makePki(dir: string): Promise<TestPki> {
  const now = new Date();
  const ca = await issueCertificateAuthority('registry-gate test CA', now, 1);
  const caFile = join(dir, 'ca.crt');
  await writeFile(caFile, ca.cert);
  return {
    ca,
    caFile,
    async serving(name, names) {
      const issued = await issueServingCertificate(ca, names, now, 1);
      const certFile = join(dir, `${name}.crt`);
      const keyFile = join(dir, `${name}.key`);
      await writeFile(certFile, issued.cert);
      await writeFile(keyFile, issued.key, { mode: 0o600 });
      return { certFile, keyFile, issued };
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type RegistryAuth =
  | { readonly kind: 'htpasswd'; readonly file: string }
  | {
      readonly kind: 'token';
      readonly realm: string;
      readonly service: string;
      readonly issuer: string;
      readonly rootCertBundle: string;
    };

export interface RunningRegistry {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts CNCF distribution on 127.0.0.1 with TLS and the given auth, storage in `storageDir` (two instances may
 * share it), and waits until it answers `/v2/`.
 */
export async function startRegistry(
  tools: RegistryTools,
  options: {
    dir: string;
    storageDir: string;
    tls: { certFile: string; keyFile: string };
    auth: RegistryAuth;
    caFile: string;
  },
): Promise<RunningRegistry> {
  const port = await freePort();
  const auth =
    options.auth.kind === 'htpasswd'
      ? `  htpasswd:\n    realm: registry-gate-test\n    path: ${options.auth.file}\n`
      : `  token:\n    realm: ${options.auth.realm}\n    service: ${options.auth.service}\n    issuer: ${options.auth.issuer}\n    rootcertbundle: ${options.auth.rootCertBundle}\n`;
  const config = join(options.dir, `registry-${port}.yml`);
  await writeFile(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${options.storageDir}
http:
  addr: 127.0.0.1:${port}
  secret: registry-gate-test-secret
  tls:
    certificate: ${options.tls.certFile}
    key: ${options.tls.keyFile}
auth:
${auth}`,
  );
  const child = spawn(tools.registry, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const stop = (): Promise<void> => stopChild(child);
  try {
    await waitForHttps(port, options.caFile, child, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: `127.0.0.1:${port}`, port, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Polls until the registry answers any HTTP status on `/v2/` (at most 10 s, 50 ms apart). */
async function waitForHttps(
  port: number,
  caFile: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const ca = await readFile(caFile, 'utf8');
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`registry exited ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/v2/', ca, servername: undefined, timeout: 500 },
        (res) => {
          res.resume();
          resolve(true);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`registry on port ${port} did not answer within 10 s: ${stderr()}`);
}

export async function htpasswdFile(
  tools: RegistryTools,
  file: string,
  users: Record<string, string>,
): Promise<void> {
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    // -B bcrypt (the only hash distribution accepts), -b password from the command line, -n print.
    const { stdout } = await run(tools.htpasswd, ['-Bbn', user, password]);
    lines.push(stdout.trim());
  }
  await writeFile(file, `${lines.join('\n')}\n`);
}

/** Runs crane against loopback registries: trusting the test CA, with a docker config holding `auths`. */
export interface Crane {
  (...args: string[]): Promise<string>;
}

export async function makeCrane(
  tools: RegistryTools,
  dir: string,
  caFile: string,
  auths: Record<string, { username: string; password: string }>,
): Promise<Crane> {
  const configDir = join(dir, 'docker-config');
  await mkdir(configDir, { recursive: true });
  const entries = Object.fromEntries(
    Object.entries(auths).map(([host, c]) => [
      host,
      { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') },
    ]),
  );
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: entries }));
  return async (...args: string[]) => {
    const { stdout } = await run(tools.crane, args, {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, DOCKER_CONFIG: configDir, SSL_CERT_FILE: caFile },
      timeout: 30_000,
    });
    return stdout.trim();
  };
}

/** A one-file layer tarball, distinct per `content`, for `crane append` onto scratch. */
export async function layerTar(dir: string, name: string, content: string): Promise<string> {
  const src = join(dir, `layer-${name}`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'hello.txt'), content);
  const tar = join(dir, `layer-${name}.tar`);
  await run('tar', ['-C', src, '-cf', tar, 'hello.txt']);
  return tar;
}

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
  const server: HttpsServer = createHttpsServer(
    { cert: options.tls.cert, key: options.tls.key },
    (req, res) => {
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
    },
  );
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

/** An HTTPS server that answers every request with `status` (a registry having a bad day), counting them. */
export async function startStatusServer(
  tls: Issued,
  status: number,
): Promise<{ host: string; hits: () => number; stop(): Promise<void> }> {
  let hits = 0;
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, hits: () => hits, stop: () => closeServer(server) };
}

/**
 * A TCP proxy to a real registry that holds every chunk the client sends for `delayMs` before passing it on (a
 * slow mirror: the TLS handshake and every request wait, also on a kept-alive connection), or never passes
 * anything on when `delayMs` is Infinity (a black hole that accepts connections and never answers).
 */
export async function startDelayProxy(
  targetPort: number,
  delayMs: number,
): Promise<{ host: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createTcpServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (!Number.isFinite(delayMs)) {
      client.resume();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        upstream.write(chunk);
      }, delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function closeServer(server: HttpsServer): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
