import https from 'node:https';

/** One admission request the soak sent, and what became of it. */
export interface Sample {
  readonly uid: string;
  readonly path: '/mutate' | '/validate';
  /** The image probe: `quay.io/...` is denied by policy generation 1 and allowed from generation 2 on. */
  readonly probe: 'quay' | 'fixture';
  /** On a fresh TLS connection rather than the keep-alive pool. */
  readonly fresh: boolean;
  readonly sentAt: number;
  ms: number;
  /** null while in flight. */
  outcome: null | { ok: true; allowed: boolean; uidMatches: boolean } | { ok: false; error: string };
}

export interface LoadOptions {
  readonly port: number;
  /** Every CA the server's certificates may chain to, before and after rotation. */
  readonly ca: readonly string[];
  readonly ratePerSecond: number;
  readonly concurrency: number;
  /** Share of requests sent on a new connection, so rotated certificates are exercised under load. */
  readonly freshShare: number;
  readonly fixture: Record<string, unknown>;
}

/**
 * Paced admission load: request i is due at start + i / rate, at most `concurrency` in flight, over a keep-alive
 * agent (as the apiserver holds connections) with a share on fresh connections.
 */
export class Load {
  readonly samples: Sample[] = [];
  private stopped = false;
  private workers: Promise<void>[] = [];
  private next = 0;
  private started = 0;
  private readonly agent: https.Agent;

  constructor(private readonly options: LoadOptions) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: options.concurrency });
  }

  start(): void {
    this.started = performance.now();
    this.workers = Array.from({ length: this.options.concurrency }, () => this.worker());
  }

  /** Stops issuing new requests and resolves when every request in flight has its answer. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
    this.agent.destroy();
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const i = this.next++;
      const due = this.started + (i * 1000) / this.options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.stopped) return;
      await this.send(i);
    }
  }

  private async send(i: number): Promise<void> {
    const probe = i % 2 === 0 ? 'quay' : 'fixture';
    const path = probe === 'quay' || i % 4 === 1 ? '/validate' : '/mutate';
    const uid = `soak-${i}`;
    const body = structuredClone(this.options.fixture) as { request: Record<string, unknown> };
    body.request['uid'] = uid;
    if (probe === 'quay') {
      const object = body.request['object'] as { spec: { containers: { image: string }[] } };
      object.spec.containers = [{ ...object.spec.containers[0], image: 'quay.io/org/app:1' }];
      delete (object.spec as Record<string, unknown>)['initContainers'];
    }
    const fresh = Math.random() < this.options.freshShare;
    const sample: Sample = { uid, path, probe, fresh, sentAt: performance.now(), ms: 0, outcome: null };
    this.samples.push(sample);
    try {
      const text = await this.post(path, JSON.stringify(body), fresh);
      const answer = JSON.parse(text) as { response?: { uid?: unknown; allowed?: unknown } };
      sample.outcome = {
        ok: true,
        allowed: answer.response?.allowed === true,
        uidMatches: answer.response?.uid === uid,
      };
    } catch (err) {
      sample.outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    sample.ms = performance.now() - sample.sentAt;
  }

  private post(path: string, body: string, fresh: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: this.options.port,
          path: `${path}?timeout=10s`,
          method: 'POST',
          ca: [...this.options.ca],
          servername: 'localhost',
          agent: fresh ? false : this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200) resolve(text);
            else reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
