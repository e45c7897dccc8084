import https from 'node:https';
import tls from 'node:tls';

/** Where the soak's server listens, and the CAs its certificates chain to. */
export interface Target {
  readonly port: number;
  readonly ca: readonly string[];
}

/**
 * A Pod review of about `bytes`, as the apiserver sends one for a Pod with tens of thousands of containers: each
 * container defaulted (resources, termination message, pull policy). `image(i)` picks the worst case per webhook:
 * every image distinct and denied for /validate (a denial message per container, a decision each), every image
 * rewritten for /mutate (a patch operation each).
 */
export function largestReview(bytes: number, uid: string, image: (i: number) => string): string {
  const container = (i: number): string =>
    JSON.stringify({
      name: `c${i}`,
      image: image(i),
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
    });
  const head = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${uid}","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","namespace":"soak","name":"huge","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge","namespace":"soak"},"spec":{"containers":[`;
  const tail = ']}},"oldObject":null,"dryRun":false}}';
  const parts: string[] = [];
  let size = head.length + tail.length;
  for (let i = 0; ; i++) {
    const next = container(i);
    if (size + next.length + 1 > bytes) break;
    parts.push(next);
    size += next.length + 1;
  }
  return `${head}${parts.join(',')}${tail}`;
}

export interface Answer {
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
  readonly allowed: boolean | null;
}

/**
 * One POST on a fresh keep-alive connection, as the apiserver holds them (a client that asks to close gets its
 * connection closed after the answer, even while it is still sending); the answer's status, size and time.
 */
export function post(target: Target, path: string, body: string, timeoutMs = 60_000): Promise<Answer> {
  const started = performance.now();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: `${path}?timeout=30s`,
        method: 'POST',
        ca: [...target.ca],
        servername: 'localhost',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let allowed: boolean | null = null;
          try {
            const parsed = JSON.parse(text) as { response?: { allowed?: unknown } };
            allowed = typeof parsed.response?.allowed === 'boolean' ? parsed.response.allowed : null;
          } catch {
            allowed = null;
          }
          agent.destroy();
          resolve({
            status: res.statusCode ?? 0,
            bytes: text.length,
            ms: performance.now() - started,
            allowed,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      agent.destroy();
      reject(err);
    });
    req.end(body);
  });
}

export interface HeldBody {
  /** Status of the answer, or null when the server closed without one (or none came before the end). */
  status: number | null;
  /** Milliseconds from opening the connection to the answer (or to the close). */
  ms: number | null;
}

/**
 * `count` connections, each declaring a body of `bytes` and sending all of it but the last byte, as a client that
 * stalls mid-upload (or an attacker holding memory) does. Resolves once every connection has its answer or has
 * closed, or after `waitMs`; every socket is destroyed before it returns.
 */
export async function holdBodies(
  target: Target,
  count: number,
  bytes: number,
  waitMs: number,
): Promise<HeldBody[]> {
  const body = Buffer.alloc(bytes - 1, 0x20);
  const results: HeldBody[] = [];
  const sockets: tls.TLSSocket[] = [];
  const done = Array.from({ length: count }, () => {
    const held: HeldBody = { status: null, ms: null };
    results.push(held);
    const started = performance.now();
    return new Promise<void>((resolve) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port: target.port, ca: [...target.ca], servername: 'localhost' },
        () => {
          socket.write(
            `POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n`,
          );
          socket.write(body);
        },
      );
      sockets.push(socket);
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
        if (status !== undefined && held.status === null) {
          held.status = Number(status);
          held.ms = performance.now() - started;
          resolve();
        }
      });
      const closed = (): void => {
        held.ms ??= performance.now() - started;
        resolve();
      };
      socket.on('close', closed);
      socket.on('error', closed);
    });
  });
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, waitMs))]);
  for (const s of sockets) s.destroy();
  return results;
}
