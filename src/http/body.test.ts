import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readJsonBody } from './body.js';
import { BodyBudget } from './body-budget.js';

/** A request as readJsonBody sees it: headers and a stream of body chunks. */
function requestOf(headers: Record<string, string>, chunks: (string | Buffer)[]): IncomingMessage {
  const stream = Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  return Object.assign(stream, { headers }) as unknown as IncomingMessage;
}

const json = { 'content-type': 'application/json' };
const LIMIT = 1024;
const LIMITS = { maxBytes: LIMIT, timeoutMs: 5000 };

describe('readJsonBody accepts declared UTF-8 JSON within the limit', () => {
  const e = Buffer.from('"é"');
  it.each([
    ['application/json', json, ['{"a":1}'], { a: 1 }],
    ['with charset', { 'content-type': 'application/json; charset=utf-8' }, ['[1]'], [1]],
    ['quoted upper-case charset', { 'content-type': 'Application/JSON;charset="UTF-8"' }, ['{}'], {}],
    ['a +json type', { 'content-type': 'application/merge-patch+json' }, ['{"b":true}'], { b: true }],
    ['identity encoding', { ...json, 'content-encoding': 'identity' }, ['{}'], {}],
    ['many chunks', json, ['{"a"', ':', '[1,', '2]}'], { a: [1, 2] }],
    // A two-byte character split between chunks must not be decoded chunk by chunk.
    ['a character split across chunks', json, [e.subarray(0, 2), e.subarray(2)], 'é'],
    ['exactly the limit', json, [`"${'x'.repeat(LIMIT - 2)}"`], 'x'.repeat(LIMIT - 2)],
  ])('%s', async (_name, headers, chunks, value) => {
    expect(await readJsonBody(requestOf(headers, chunks), LIMITS)).toMatchObject({ ok: true, value });
  });
});

describe('readJsonBody refuses with the status and reason the client needs', () => {
  it.each([
    ['no content type', {}, ['{}'], 400, /Content-Type must be application\/json/],
    ['text/plain', { 'content-type': 'text/plain' }, ['{}'], 400, /^Content-Type must be application\/json/],
    ['json as a suffix only', { 'content-type': 'application/jsonx' }, ['{}'], 400, /Content-Type/],
    ['UTF-16', { 'content-type': 'application/json; charset=utf-16' }, ['{}'], 415, /charset must be UTF-8/],
    ['gzip', { ...json, 'content-encoding': 'gzip' }, ['{}'], 415, /Content-Encoding must be identity/],
    ['declared too large', { ...json, 'content-length': String(LIMIT + 1) }, ['{}'], 413, /limit of 1024/],
    ['streamed too large', json, ['[', '1,'.repeat(LIMIT), '1]'], 413, /limit of 1024/],
    ['empty', json, [], 400, /not valid JSON/],
    ['not JSON', json, ['hello'], 400, /not valid JSON/],
    ['truncated', json, ['{"a":'], 400, /not valid JSON/],
  ])('%s', async (_name, headers, chunks, status, reason) => {
    const result = await readJsonBody(requestOf(headers, chunks), LIMITS);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(status);
    expect(result.reason).toMatch(reason);
  });

  it('settles when the client goes away mid-body', async () => {
    const stream = new Readable({ read() {} });
    const req = Object.assign(stream, { headers: json }) as unknown as IncomingMessage;
    const pending = readJsonBody(req, LIMITS);
    stream.push('{"a":');
    stream.destroy(new Error('aborted'));
    expect(await pending).toMatchObject({ ok: false, status: 400, reason: expect.stringMatching(/cut off/) });
  });
});

describe('readJsonBody holds bytes against the in-flight cap and gives up on slow bodies', () => {
  it('refuses a declared length the budget cannot hold, before reading the body', async () => {
    const budget = new BodyBudget(100, 10, 0);
    const ticket = budget.open();
    expect(ticket.take(90)).toBe(true);
    const result = await readJsonBody(
      requestOf({ ...json, 'content-length': '20' }, ['{"a":"123456789012"}']),
      LIMITS,
      budget.open(),
    );
    expect(result).toMatchObject({ ok: false, status: 429 });
    ticket.release();
    expect(budget.inFlight).toBe(0);
  });

  it('counts a chunked body as it arrives, and holds it until released', async () => {
    const budget = new BodyBudget(100, 10, 0);
    const ticket = budget.open();
    const result = await readJsonBody(requestOf(json, ['[1,', '2,3]']), LIMITS, ticket);
    expect(result.ok).toBe(true);
    expect(budget.inFlight).toBe(7);
    ticket.release();
    ticket.release();
    expect(budget.inFlight).toBe(0);
    const big = await readJsonBody(requestOf(json, ['"', 'x'.repeat(120), '"']), LIMITS, budget.open());
    expect(big).toMatchObject({ ok: false, status: 429 });
  });

  it('lets small bodies draw on a reserve that large ones cannot', () => {
    const budget = new BodyBudget(100, 10, 50);
    expect(budget.open().take(100)).toBe(true);
    expect(budget.open().take(11)).toBe(false);
    const small = budget.open();
    expect(small.take(10)).toBe(true);
    expect(small.take(1)).toBe(false);
    expect(budget.inFlight).toBe(110);
  });

  it('cuts a body off after the timeout with 408', async () => {
    const stream = new Readable({ read() {} });
    const req = Object.assign(stream, { headers: json }) as unknown as IncomingMessage;
    const pending = readJsonBody(req, { maxBytes: LIMIT, timeoutMs: 50 });
    stream.push('{"a":');
    expect(await pending).toMatchObject({ ok: false, status: 408, received: 5 });
    stream.destroy();
  });
});

describe('a stall is the client not sending, never the server being busy', () => {
  it('does not cut off a body that arrived while the event loop was blocked past the timeout', async () => {
    const busy = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // A decision of a review near the size limit holds the loop this long.
      }
    };
    const server = createServer((req, res) => {
      const result = readJsonBody(req, { maxBytes: LIMIT, timeoutMs: 100 });
      setTimeout(() => busy(400), 0);
      void result.then((r) => res.end(r.ok ? 'ok' : String(r.status)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<string>((resolve, reject) => {
        const body = '{"a":1}';
        const req = request(
          { host: '127.0.0.1', port, method: 'POST', headers: { ...json, 'content-length': body.length } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.flushHeaders();
        // Sent while the server is busy: it waits in the kernel past the 100 ms timeout.
        setTimeout(() => req.end(body), 150);
      });
      expect(answer).toBe('ok');
    } finally {
      server.close();
    }
  });
});
