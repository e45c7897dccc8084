import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { parse } from 'yaml';

/** One answer of the apiserver: status, body, and the time from sending the request to its last byte. */
export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

export interface ApiClient {
  post(path: string, body: Buffer): Promise<Reply>;
  get(path: string): Promise<Reply>;
  /** Closes the kept-alive connections. */
  close(): void;
}

interface Credentials {
  readonly server: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

function field(from: unknown, path: readonly string[], kubeconfig: string): string {
  let at: unknown = from;
  for (const key of path) {
    const next: unknown = Array.isArray(at)
      ? at[Number(key)]
      : (at as Record<string, unknown> | undefined)?.[key];
    at = next;
  }
  if (typeof at !== 'string' || at === '') throw new Error(`${kubeconfig}: no ${path.join('.')}`);
  return at;
}

/** The server and the admin client certificate of the harness kubeconfig (its first cluster and user). */
async function credentialsOf(kubeconfig: string): Promise<Credentials> {
  const config: unknown = parse(await readFile(kubeconfig, 'utf8'));
  const b64 = (path: readonly string[]): string =>
    Buffer.from(field(config, path, kubeconfig), 'base64').toString('utf8');
  return {
    server: field(config, ['clusters', '0', 'cluster', 'server'], kubeconfig),
    ca: b64(['clusters', '0', 'cluster', 'certificate-authority-data']),
    cert: b64(['users', '0', 'user', 'client-certificate-data']),
    key: b64(['users', '0', 'user', 'client-key-data']),
  };
}

/**
 * Requests straight to the apiserver over HTTPS with kept-alive connections, as a controller's client does: the
 * figure is the apiserver's, not a process start or a TLS handshake per request (kubectl per create would be both).
 */
export async function apiClient(kubeconfig: string, maxSockets = 64): Promise<ApiClient> {
  const { server, ca, cert, key } = await credentialsOf(kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets, ca, cert, key });
  const send = (method: string, path: string, body?: Buffer): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const headers: Record<string, string | number> = { accept: 'application/json' };
      if (body) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = body.length;
      }
      const req = request(new URL(path, server), { method, agent, headers, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          }),
        );
      });
      req.once('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.once('error', reject);
      req.end(body);
    });
  return {
    post: (path, body) => send('POST', path, body),
    get: (path) => send('GET', path),
    close: () => agent.destroy(),
  };
}
