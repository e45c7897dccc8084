import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';

/** Why a request got no HTTP answer. Stable codes: they become reasons in warnings, denials and metrics. */
export type TransportErrorCode = 'TIMEOUT' | 'BUDGET' | 'TLS' | 'CONNECT' | 'PROTOCOL' | 'TOO_LARGE';

/** A request that got no (usable) HTTP answer; the message is for people and never holds a credential. */
export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** The reason an AbortSignal carries when the review's whole time budget is spent (not one request's timeout). */
export class BudgetExhausted extends Error {
  constructor() {
    super('the time budget of this review is spent');
    this.name = 'BudgetExhausted';
  }
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface SendOptions {
  readonly method: 'GET' | 'HEAD';
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** Bodies longer than this are an error (a token answer is a few KiB; a manifest well under 4 MiB). */
  readonly maxBodyBytes: number;
  /** Skip certificate verification: only when the policy lists the registry as insecure. */
  readonly insecure: boolean;
}

/** How to trust registries: the platform's roots plus a private CA bundle (`--mirror-ca-file`), when given. */
export interface TrustOptions {
  readonly extraCaPem?: string | undefined;
  /** Sockets kept per registry (and the most in flight): the concurrency cap per mirror. */
  readonly maxSocketsPerHost?: number | undefined;
}

/**
 * HTTPS to registries with verification on by default, keep-alive connections (a cold review asks one mirror
 * dozens of times; a TLS handshake per look-up would cost more than the look-up) and a bounded body read. Both
 * agents are made once: the verifying one trusts the platform roots plus the private bundle, the other is for
 * registries the policy names in `insecureRegistries`, as the node treats them.
 */
export class Transport {
  private readonly verifying: Agent;
  private readonly unverified: Agent;

  constructor(trust: TrustOptions = {}) {
    const common = { keepAlive: true, maxSockets: trust.maxSocketsPerHost ?? 8, scheduling: 'lifo' as const };
    // One secure context for every connection: given only `ca`, node parses the ~140 roots again for each new
    // socket (milliseconds of CPU each), which a cold review opening eight connections would pay eight times.
    const secureContext =
      trust.extraCaPem === undefined
        ? undefined
        : createSecureContext({ ca: [...rootCertificates, trust.extraCaPem] });
    this.verifying = new Agent({ ...common, ...(secureContext ? { secureContext } : {}) });
    this.unverified = new Agent({ ...common, rejectUnauthorized: false });
  }

  send(url: URL, options: SendOptions): Promise<Reply> {
    if (url.protocol !== 'https:')
      return Promise.reject(new TransportError('PROTOCOL', `${url.protocol} is not https:`));
    const { signal } = options;
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<Reply>((resolve, reject) => {
      const req = request(
        url,
        {
          method: options.method,
          headers: options.headers,
          agent: options.insecure ? this.unverified : this.verifying,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > options.maxBodyBytes) {
              req.destroy(
                new TransportError('TOO_LARGE', `answer longer than ${options.maxBodyBytes} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', (err) => reject(classify(err, signal)));
        },
      );
      req.on('error', (err) => reject(classify(err, signal)));
      req.end();
    });
  }

  /** Closes kept-alive connections (tests, shutdown). */
  close(): void {
    this.verifying.destroy();
    this.unverified.destroy();
  }
}

function abortError(signal: AbortSignal): TransportError {
  return signal.reason instanceof BudgetExhausted
    ? new TransportError('BUDGET', 'the time budget for mirror look-ups was spent')
    : new TransportError('TIMEOUT', 'no answer in time');
}

const TLS_CODE = /CERT|TLS|SSL|SIGNATURE|ALTNAME|ISSUER/;

/** Maps node's error codes to ours, with a message that names the cause (certificate, refused, reset…). */
function classify(err: unknown, signal: AbortSignal): TransportError {
  if (err instanceof TransportError) return err;
  if (signal.aborted) return abortError(signal);
  const code = typeof err === 'object' && err !== null ? String((err as { code?: unknown }).code ?? '') : '';
  const message = err instanceof Error ? err.message : String(err);
  if (TLS_CODE.test(code) || code === 'EPROTO')
    return new TransportError('TLS', `TLS: ${message}`, { cause: err });
  if (code === 'HPE_INVALID_CONSTANT' || code.startsWith('HPE_'))
    return new TransportError('PROTOCOL', `not HTTP: ${message}`, { cause: err });
  return new TransportError('CONNECT', message, { cause: err });
}
