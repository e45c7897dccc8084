import type { IncomingMessage } from 'node:http';
import type { BodyTicket } from './body-budget.js';
import { watchStall } from './stall.js';

export interface BodyLimits {
  /** Largest body accepted. */
  readonly maxBytes: number;
  /** The longest a body may go without a byte arriving (408 beyond): watchStall. */
  readonly timeoutMs: number;
}

export type BodyResult =
  | { readonly ok: true; readonly value: unknown; readonly raw: Buffer }
  | {
      readonly ok: false;
      readonly status: 400 | 408 | 413 | 415 | 429;
      readonly reason: string;
      /** The whole body when it was read (for its size and hash in the log), else null. */
      readonly raw: Buffer | null;
      /** Bytes received when the body was refused. */
      readonly received: number;
    };

const JSON_TYPE = /^application\/(?:[^\s/;]+\+)?json$/;
const UNBOUNDED: BodyTicket = { take: () => true, release: () => undefined };

/**
 * Reads a JSON request body and parses it once. Written by hand instead of `express.json()` because the profile of
 * the admission path showed body-parser's machinery (content-type and charset parsing through three packages,
 * raw-body, iconv, per-request listeners) costing more than the policy decision itself; this does the same checks
 * with none of it: declared JSON (`application/json` or `application/*+json`), UTF-8 only, no content encoding (the
 * apiserver sends none), the size limit both from Content-Length up front and while streaming, and a syntax error
 * reported by position. On top: every byte is first taken from `ticket` (the in-flight cap: 429 when it is spent),
 * and a body that stalls for `timeoutMs` is cut off (408). Reasons never quote the body or a header value.
 */
export function readJsonBody(
  req: IncomingMessage,
  limits: BodyLimits,
  ticket: BodyTicket = UNBOUNDED,
): Promise<BodyResult> {
  const refused = checkHeaders(req, limits.maxBytes);
  if (refused !== null) return Promise.resolve(drained(req, limits.timeoutMs, refused));
  const declared = req.headers['content-length'];
  // A declared length is taken whole, up front, so a request beyond the cap is refused before its body is read.
  if (declared !== undefined && !ticket.take(Number(declared))) {
    return Promise.resolve(drained(req, limits.timeoutMs, overCap(0)));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      stall.stop();
      if (!result.ok) chunks.length = 0;
      // Too large or over the cap: the answer goes at once, and the rest of the body is read and dropped.
      resolve(result.ok || result.status === 408 ? result : drained(req, limits.timeoutMs, result));
    };
    const stall = watchStall(req, limits.timeoutMs, () =>
      finish({
        ok: false,
        status: 408,
        reason: `request body stalled: no byte for ${limits.timeoutMs} ms`,
        raw: null,
        received: size,
      }),
    );
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge(limits.maxBytes, size));
      if (declared === undefined && !ticket.take(chunk.length)) return finish(overCap(size));
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      try {
        finish({ ok: true, value: JSON.parse(raw.toString('utf8')) as unknown, raw });
      } catch (err) {
        // V8's message quotes a piece of the body, and a body may carry a Secret: say only where it broke.
        const at = /at position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
        const where = at === undefined ? '' : ` (at position ${at})`;
        finish({
          ok: false,
          status: 400,
          reason: `request body is not valid JSON${where}`,
          raw,
          received: size,
        });
      }
    });
    // The client went away mid-body: nobody reads the answer, but the promise must still settle.
    const cut = (): void =>
      finish({ ok: false, status: 400, reason: 'request body was cut off', raw: null, received: size });
    req.on('error', cut);
    req.on('close', cut);
  });
}

/**
 * Reads the rest of a refused body and drops it, so the client gets its answer cleanly (closing a connection the
 * client is still writing to resets it, and the apiserver's client would see a reset, not the 429 it can retry),
 * while holding no memory. A body that stalls is cut off with its connection.
 */
function drained(req: IncomingMessage, stallMs: number, result: BodyResult): BodyResult {
  if (req.readableEnded) return result;
  const stall = watchStall(req, stallMs, () => req.socket?.destroy());
  req.once('end', stall.stop);
  req.once('close', stall.stop);
  req.resume();
  return result;
}

function checkHeaders(req: IncomingMessage, limitBytes: number): BodyResult | null {
  const refuse = (status: 400 | 413 | 415, reason: string): BodyResult => ({
    ok: false,
    status,
    reason,
    raw: null,
    received: 0,
  });
  const header = req.headers['content-type'] ?? '';
  const [mediaType = '', ...parameters] = header.split(';');
  if (!JSON_TYPE.test(mediaType.trim().toLowerCase())) {
    return refuse(400, 'Content-Type must be application/json (or application/*+json)');
  }
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return refuse(415, 'the charset must be UTF-8');
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    return refuse(415, 'Content-Encoding must be identity: send the body uncompressed');
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > limitBytes) return tooLarge(limitBytes, 0);
  return null;
}

const tooLarge = (limitBytes: number, received: number): BodyResult => ({
  ok: false,
  status: 413,
  reason: `request body is larger than the limit of ${limitBytes} bytes`,
  raw: null,
  received,
});

const overCap = (received: number): BodyResult => ({
  ok: false,
  status: 429,
  reason: 'too many request bytes in flight: retry shortly',
  raw: null,
  received,
});
