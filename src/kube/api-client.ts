import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KubeApiError } from './api-error.js';
import { loadKubeConfig } from './kube-config.js';

/** Read-only access to the API server: GET a path, get its JSON. */
export interface KubeReader {
  /** The API server URL, for messages. */
  readonly server: string;
  get(path: string): Promise<unknown>;
}

export interface KubeConnection {
  /** A kubeconfig file; else $KUBECONFIG, ~/.kube/config, or the in-cluster ServiceAccount. */
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

const TIMEOUT_MS = 60_000;

/**
 * Connects with client-node's KubeConfig (every kubeconfig auth it knows: client certificates, tokens, exec
 * plugins, in-cluster) but reads the raw JSON itself: the generated typed models drop fields they do not know,
 * and an audit must see exactly what the apiserver stores, as the webhook does.
 */
export function connect(connection: KubeConnection): KubeReader {
  const kc = loadKubeConfig(connection.kubeconfig, { context: connection.context });
  const server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');

  return {
    server,
    async get(path: string): Promise<unknown> {
      const url = new URL(server + path);
      const options: RequestOptions & { rejectUnauthorized?: boolean } = {
        method: 'GET',
        headers: { Accept: 'application/json' },
        timeout: TIMEOUT_MS,
      };
      try {
        await kc.applyToHTTPSOptions(options);
      } catch (err) {
        // An `http:` server without insecure-skip-tls-verify, a client certificate file that is gone, …
        const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
        throw new KubeApiError(`cannot use the kubeconfig for ${server}: ${reason}`, null, {
          code: 'KUBECONFIG_INVALID',
          cause: err,
        });
      }
      const { status, body } = await send(url, options);
      if (status >= 200 && status < 300) {
        try {
          return JSON.parse(body) as unknown;
        } catch (err) {
          throw new KubeApiError(`GET ${path}: the API server sent something that is not JSON`, status, {
            code: 'API_BAD_ANSWER',
            cause: err,
          });
        }
      }
      throw new KubeApiError(`GET ${path}: ${status} ${statusMessage(body)}`, status);
    },
  };
}

function send(url: URL, options: RequestOptions): Promise<{ status: number; body: string }> {
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', (err) =>
      reject(
        new KubeApiError(`cannot reach the API server at ${url.origin}: ${err.message}`, null, {
          cause: err,
        }),
      ),
    );
    req.end();
  });
}

/** The `message` of a metav1.Status body, which says what was refused and why (RBAC names verb and resource). */
function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as unknown;
    if (
      typeof status === 'object' &&
      status !== null &&
      'message' in status &&
      typeof status.message === 'string'
    )
      return status.message;
  } catch {
    // not a Status: fall through to the raw text
  }
  return body.slice(0, 200).trim() || '(no body)';
}
