import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: 400 | 413 | 415; readonly reason: string };

const JSON_TYPE = /^application\/(?:[^\s/;]+\+)?json$/;

/**
 * Reads a JSON request body of at most `limitBytes` and parses it once. Written by hand instead of
 * `express.json()` because the profile of the admission path showed body-parser's machinery (content-type and
 * charset parsing through three packages, raw-body, iconv, per-request listeners) costing more than the policy
 * decision itself; this does the same checks with none of it: declared JSON (`application/json` or
 * `application/*+json`), UTF-8 only, no content encoding (the apiserver sends none), the size limit both from
 * Content-Length up front and while streaming, and a syntax error reported with the parser's reason.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  const refused = checkHeaders(req, limitBytes);
  if (refused !== null) {
    req.resume(); // discard the body so the keep-alive connection stays usable
    return Promise.resolve(refused);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limitBytes) {
        chunks.length = 0;
        finish(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
      try {
        finish({ ok: true, value: JSON.parse(text) as unknown });
      } catch (err) {
        // V8's message quotes a piece of the body, and a body may carry a Secret: say only where it broke.
        const at = /at position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
        finish({
          ok: false,
          status: 400,
          reason: `request body is not valid JSON${at === undefined ? '' : ` (at position ${at})`}`,
        });
      }
    });
    // The client went away mid-body: nobody reads the answer, but the promise must still settle.
    req.on('error', () => finish({ ok: false, status: 400, reason: 'request body was cut off' }));
    req.on('close', () => finish({ ok: false, status: 400, reason: 'request body was cut off' }));
  });
}

function checkHeaders(req: IncomingMessage, limitBytes: number): BodyResult | null {
  const header = req.headers['content-type'] ?? '';
  const [mediaType = '', ...parameters] = header.split(';');
  if (!JSON_TYPE.test(mediaType.trim().toLowerCase())) {
    return {
      ok: false,
      status: 400,
      reason: `Content-Type must be application/json${header === '' ? '' : `, not ${header}`}`,
    };
  }
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      return { ok: false, status: 415, reason: `unsupported charset "${charset}": send UTF-8` };
    }
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    return {
      ok: false,
      status: 415,
      reason: `unsupported Content-Encoding "${encoding}": send the body uncompressed`,
    };
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > limitBytes) return tooLarge(limitBytes);
  return null;
}

const tooLarge = (limitBytes: number): BodyResult => ({
  ok: false,
  status: 413,
  reason: `request body is larger than the limit of ${limitBytes} bytes`,
});
