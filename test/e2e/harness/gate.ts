import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ok, type Kubectl } from './kubectl.js';
import { ManagedProcess, freePort, waitFor } from './process.js';

const WEBHOOK_CONFIGURATIONS = [
  'mutatingwebhookconfiguration/registry-gate',
  'validatingwebhookconfiguration/registry-gate',
];

/** Longer than the server's log flush interval (src/main.ts: 200 ms). */
const LOG_FLUSH_WAIT_MS = 300;

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Gate {
  readonly port: number;
  /** The CA registry-gate generated for itself: the caBundle of the webhook configurations. */
  readonly caBundle: string;
  readonly policyFile: string;
  /** The e2e overlay that registered it: manifests/base with clientConfig pointing at 127.0.0.1. */
  readonly overlay: string;
  /** GET on the gate's own HTTPS port (`/metrics`, `/readyz`); the body, whatever the status. */
  get(path: string): Promise<string>;
  /** Every JSON log line so far (it waits out the server's 200 ms log batching first). */
  logs(): Promise<Record<string, unknown>[]>;
  /** Replaces the served certificate files (the server reloads them), as a Secret update does in a cluster. */
  rotateCertificate(pair: { cert: string; key: string }): Promise<void>;
  /** Stops the server only: the webhook configurations stay, as when the gate is down in a cluster. */
  stopServer(): Promise<void>;
  /** Stops the server and removes the webhook configurations. */
  close(): Promise<void>;
}

export interface GateOptions {
  readonly policyYaml: string;
  /** Serve this certificate and register this caBundle, instead of the development pair the gate makes itself. */
  readonly certificate?: { readonly cert: string; readonly key: string; readonly caBundle: string };
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { ca, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.once('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/** Writes tls.key then tls.crt; the server reloads only a pair whose key matches its certificate. */
async function writeCertificate(certDir: string, pair: { cert: string; key: string }): Promise<void> {
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, 'tls.key.new'), pair.key, { mode: 0o600 });
  await writeFile(join(certDir, 'tls.crt.new'), pair.cert);
  await rename(join(certDir, 'tls.key.new'), join(certDir, 'tls.key'));
  await rename(join(certDir, 'tls.crt.new'), join(certDir, 'tls.crt'));
}

/**
 * The e2e overlay: the project's own manifests/base, whose only change is that every webhook entry calls
 * https://127.0.0.1:PORT/<its path> with the gate's CA, since the apiserver here cannot reach an in-cluster Service.
 */
export async function writeE2EOverlay(dir: string, port: number, caBundle: string): Promise<string> {
  const base = join(repoRoot, 'manifests/base');
  const docs = parseAllDocuments(await readFile(join(base, 'webhooks.yaml'), 'utf8')).map(
    (d) =>
      d.toJS() as {
        kind: string;
        metadata: { name: string };
        webhooks: { clientConfig: { service: { path: string } } }[];
      },
  );
  const patches = docs.map((doc) => ({
    target: { group: 'admissionregistration.k8s.io', version: 'v1', kind: doc.kind, name: doc.metadata.name },
    patch: JSON.stringify(
      doc.webhooks.map((w, i) => ({
        op: 'replace',
        path: `/webhooks/${i}/clientConfig`,
        value: {
          url: `https://127.0.0.1:${port}${w.clientConfig.service.path}`,
          caBundle: Buffer.from(caBundle).toString('base64'),
        },
      })),
    ),
  }));
  await mkdir(dir, { recursive: true });
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [relative(dir, base)],
    patches,
  };
  await writeFile(join(dir, 'kustomization.yaml'), JSON.stringify(kustomization, null, 2));
  return dir;
}

/**
 * Runs `registry-gate serve` from dist/ (as users run it) with `policyYaml` on a random loopback port, registers it
 * through the e2e overlay with server-side apply, and waits until the apiserver really calls it.
 */
export async function startGate(kubectl: Kubectl, options: GateOptions): Promise<Gate> {
  // Inside the checkout (git-ignored), so the overlay can name manifests/base by a relative path.
  await mkdir(join(repoRoot, '.e2e'), { recursive: true });
  const dir = await mkdtemp(join(repoRoot, '.e2e', 'gate-'));
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, options.policyYaml);
  const certDir = join(dir, 'certs');
  if (options.certificate) await writeCertificate(certDir, options.certificate);
  const logFile = join(dir, 'gate.log');
  let server: ManagedProcess | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 3 && !server?.alive; attempt++) {
    port = await freePort();
    server = ManagedProcess.start(
      'registry-gate',
      process.execPath,
      [
        join(repoRoot, 'dist/main.js'),
        'serve',
        `--policy=${policyFile}`,
        '--host=127.0.0.1',
        `--port=${port}`,
        `--cert-dir=${certDir}`,
        '--reload-interval=200',
        ...(options.args ?? []),
      ],
      logFile,
      { ...process.env, ...options.env },
    );
    const ready = await waitFor(
      'registry-gate /readyz',
      async () => {
        if (!server?.alive) return false;
        const ca = options.certificate?.caBundle ?? (await readFile(join(certDir, 'ca.crt'), 'utf8'));
        return (await httpsGet(`https://127.0.0.1:${port}/readyz`, ca)).status === 200 ? true : undefined;
      },
      20_000,
      100,
    );
    if (!ready) server = undefined;
  }
  if (!server) throw new Error(`registry-gate did not start; see ${logFile}`);
  const running = server;
  const caBundle = options.certificate?.caBundle ?? (await readFile(join(certDir, 'ca.crt'), 'utf8'));
  const overlay = join(dir, 'overlay');
  const logs = async (): Promise<Record<string, unknown>[]> => {
    // The server writes its log in batches, at the latest every 200 ms: what happened before this call is in
    // the file once that time has passed.
    await new Promise((resolveWait) => setTimeout(resolveWait, LOG_FLUSH_WAIT_MS));
    return (await readFile(logFile, 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  // The server runs in the test's worker, not under the globalSetup's care: if registering fails, stop it here,
  // or it would outlive the run (an afterAll cannot close a gate that startGate never returned).
  try {
    await writeE2EOverlay(overlay, port, caBundle);
    // A configuration another test (or a client-side `kubectl apply -k`) left would keep its service field beside
    // the url under server-side apply: register afresh.
    await kubectl(['delete', ...WEBHOOK_CONFIGURATIONS, '--ignore-not-found']);
    await ok(kubectl(['apply', '--server-side', '--force-conflicts', '-k', overlay]));
    await waitUntilCalled(kubectl, logs);
  } catch (err) {
    await running.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    caBundle,
    policyFile,
    overlay,
    logs,
    get: async (path) => (await httpsGet(`https://127.0.0.1:${port}${path}`, caBundle)).body,
    rotateCertificate: (pair) => writeCertificate(certDir, pair),
    stopServer: () => running.stop(),
    close: async () => {
      await running.stop();
      await kubectl(['delete', ...WEBHOOK_CONFIGURATIONS, '--ignore-not-found']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The apiserver picks up webhook configurations asynchronously: wait until a dry-run Pod create really reaches
 * registry-gate (its decision log line names the probe), whatever the policy decides for it.
 */
async function waitUntilCalled(
  kubectl: Kubectl,
  logs: () => Promise<Record<string, unknown>[]>,
): Promise<void> {
  await kubectl(['create', 'namespace', PROBE_NAMESPACE]);
  const probe = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', namespace: PROBE_NAMESPACE },
    spec: { containers: [{ name: 'c', image: 'registry-gate-probe' }] },
  });
  await waitFor(
    'the apiserver to call registry-gate',
    async () => {
      await kubectl(['create', '--dry-run=server', '-f', '-'], { input: probe });
      return (await logs()).some((l) => l.namespace === PROBE_NAMESPACE && l.name === 'probe')
        ? true
        : undefined;
    },
    30_000,
    250,
  );
}

const PROBE_NAMESPACE = 'e2e-probe';
