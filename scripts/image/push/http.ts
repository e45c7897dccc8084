import { createReadStream } from 'node:fs';
import { request as httpsRequest, type Agent } from 'node:https';
import { ImageError } from '../errors.js';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** At most {@link MAX_BODY} bytes: registries answer pushes with small JSON, errors included. */
  readonly body: string;
}

export interface Send {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** Bytes, or a file streamed from disk (layers are tens of MB). */
  readonly body?: Buffer | { readonly file: string; readonly size: number };
}

const MAX_BODY = 64 * 1024;
/** No progress for this long fails the request: a push must not hang a CI job. */
const IDLE_TIMEOUT_MS = 60_000;

/** One HTTPS exchange, bounded in time and in what it keeps of the answer. Network errors become `PUSH` errors. */
export async function send(agent: Agent, what: Send): Promise<Reply> {
  const body = what.body;
  const length = body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body.size;
  return await new Promise<Reply>((resolve, reject) => {
    const req = httpsRequest(
      what.url,
      {
        method: what.method,
        agent,
        headers: {
          ...what.headers,
          ...(what.method === 'POST' || what.method === 'PUT' ? { 'content-length': String(length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < MAX_BODY) chunks.push(chunk);
          kept += chunk.length;
        });
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'),
          }),
        );
        res.once('error', fail);
      },
    );
    function fail(error: Error): void {
      reject(
        new ImageError('PUSH', `${what.method} ${what.url.host}${what.url.pathname}: ${error.message}`, {
          cause: error,
        }),
      );
    }
    req.setTimeout(IDLE_TIMEOUT_MS, () =>
      req.destroy(new Error(`no progress for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    req.once('error', fail);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else createReadStream(body.file).once('error', fail).pipe(req);
  });
}

/** A header's single value (Node gives lists for repeated headers). */
export function header(reply: Reply, name: string): string | undefined {
  const value = reply.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * What went wrong, from a registry's error answer (distribution spec: `{"errors":[{"code","message"}]}`), or the
 * bare status when the body says nothing usable.
 */
export function describeFailure(reply: Reply): string {
  try {
    const parsed: unknown = JSON.parse(reply.body);
    const errors = (parsed as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const first = errors[0] as { code?: unknown; message?: unknown };
      return `${reply.status} ${String(first.code ?? '')} ${String(first.message ?? '')}`.trim();
    }
  } catch {
    // not JSON: the status is all there is
  }
  return `${reply.status}`;
}
