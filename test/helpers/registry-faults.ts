import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import type { Issued } from '../../src/certs/issue.js';

// Registries having a bad day, for the mirror check's tests: a port nobody listens on, 5xx answers, a slow or
// silent connection, all on 127.0.0.1.

export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An HTTPS server that answers every request with `status` (a registry having a bad day), counting them. */
export async function startStatusServer(
  tls: Issued,
  status: number,
): Promise<{ host: string; hits: () => number; stop(): Promise<void> }> {
  let hits = 0;
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, hits: () => hits, stop: () => closeServer(server) };
}

/**
 * A TCP proxy to a real registry that holds every chunk the client sends for `delayMs` before passing it on (a
 * slow mirror: the TLS handshake and every request wait, also on a kept-alive connection), or never passes
 * anything on when `delayMs` is Infinity (a black hole that accepts connections and never answers).
 */
export async function startDelayProxy(
  targetPort: number,
  delayMs: number,
): Promise<{ host: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createTcpServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (!Number.isFinite(delayMs)) {
      client.resume();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        upstream.write(chunk);
      }, delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function closeServer(server: HttpsServer): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
