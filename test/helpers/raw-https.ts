import tls from 'node:tls';

/** What a raw request got back: the status line's code, headers, body, and when the answer began. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Milliseconds from the first byte sent to the first byte of the answer. */
  readonly ms: number;
}

/**
 * A request written byte by byte over its own TLS connection, so a test can send headers that promise a body and
 * then hold it back, as a slow or hostile client does; supertest always finishes its bodies.
 */
export class RawRequest {
  private readonly socket: tls.TLSSocket;
  private received = Buffer.alloc(0);
  private readonly started = performance.now();
  private firstByteAt: number | null = null;
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;

  constructor(url: string, ca: string) {
    const { hostname, port } = new URL(url);
    this.socket = tls.connect({ host: hostname, port: Number(port), ca, servername: 'localhost' });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('secureConnect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.firstByteAt ??= performance.now();
      this.received = Buffer.concat([this.received, chunk]);
    });
    // A reset after the server answered and closed is the expected end of a refused upload.
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Writes the request line and headers of a JSON POST that declares `contentLength` bytes. */
  async head(path: string, contentLength: number | null): Promise<void> {
    await this.connected;
    const length = contentLength === null ? 'Transfer-Encoding: chunked' : `Content-Length: ${contentLength}`;
    this.socket.write(
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${length}\r\n\r\n`,
    );
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.write(data, () => resolve());
    });
  }

  /** Waits for a complete answer (headers and a Content-Length body), or null once `timeoutMs` has passed. */
  async answer(timeoutMs: number): Promise<RawAnswer | null> {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      const parsed = this.parse();
      if (parsed !== null) return parsed;
      await new Promise((r) => setTimeout(r, 10));
    }
    return null;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(): RawAnswer | null {
    const text = this.received.toString('latin1');
    const split = text.indexOf('\r\n\r\n');
    if (split === -1) return null;
    const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = this.received.subarray(Buffer.byteLength(text.slice(0, split + 4), 'latin1'));
    if (body.length < length) return null;
    return {
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: body.subarray(0, length).toString('utf8'),
      ms: (this.firstByteAt ?? performance.now()) - this.started,
    };
  }
}
