import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
/** PEM certificate chain and private key of the serving certificate. */
export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly certificate: TlsPair;
}

export interface RunningServer {
  readonly port: number;
  /** Swaps the serving certificate for new connections; connections already open finish undisturbed. */
  useCertificate(certificate: TlsPair): void;
  /** Stops accepting, lets in-flight requests finish, closes idle keep-alive connections; resolves when all are done. */
  drain(timeoutMs: number): Promise<void>;
  readonly draining: boolean;
}

/**
 * The HTTPS server: TLS 1.2 or newer only, keep-alive longer than the apiserver's 90 s idle timeout (so the
 * apiserver, not we, closes idle connections and never races a request into a closing socket).
 */
export async function startServer(handler: RequestListener, options: ServerOptions): Promise<RunningServer> {
  let draining = false;
  const server = https.createServer(
    {
      cert: options.certificate.cert,
      key: options.certificate.key,
      minVersion: 'TLSv1.2',
      // How often requestTimeout is enforced (30 s by default, which would let a request overstay it that long).
      connectionsCheckingInterval: 5_000,
    },
    (req, res) => {
      // While draining, tell keep-alive clients to reconnect (to another replica) after this response.
      if (draining) res.setHeader('Connection', 'close');
      handler(req, res);
    },
  );
  server.keepAliveTimeout = 95_000;
  server.headersTimeout = 100_000;
  // A backstop for whole requests (a body that trickles in just fast enough never stalls); admission bodies that
  // stall are cut off sooner (--body-timeout) and give their share of the in-flight bytes back.
  server.requestTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get draining() {
      return draining;
    },
    useCertificate(certificate) {
      server.setSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' });
    },
    drain(timeoutMs) {
      draining = true;
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, timeoutMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
