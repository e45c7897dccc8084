import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { issueCertificateAuthority, issueServingCertificate } from '../../src/certs/issue.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Tools {
  readonly registry: string;
  readonly crane: string;
}

/**
 * The CNCF distribution `registry` and `crane`, from test/e2e/node/build-tools.sh (built from the Go module proxy
 * and cached). Waits at most `waitMs` for them (a first build takes minutes); a string says why they cannot be had.
 */
export async function registryTools(waitMs: number): Promise<Tools | string> {
  const script = join(root, 'test/e2e/node/build-tools.sh');
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => {
    // The whole group: the script and the go builds it started (its EXIT trap removes the half-built directory).
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  }, waitMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (signal !== null)
    return `registry and crane are not built yet (bash test/e2e/node/build-tools.sh builds them once, a few minutes)`;
  if (code !== 0)
    return `registry and crane cannot be built: ${stderr.trim().split('\n').at(-1) ?? `exit ${code}`}`;
  const dir = stdout.trim().split('\n').at(-1) ?? '';
  const tools = { registry: join(dir, 'registry'), crane: join(dir, 'crane') };
  try {
    await access(tools.registry);
    await access(tools.crane);
  } catch {
    return `build-tools.sh printed ${dir}, which holds no registry and crane`;
  }
  return tools;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** PEM of the CA that signed the registry's certificate (made for this registry alone). */
  readonly ca: string;
  readonly caFile: string;
  readonly dir: string;
  /** What the registry logged so far. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export type RegistryAuth =
  | { readonly kind: 'htpasswd'; readonly user: string; readonly password: string }
  /** The distribution token flow: clients are sent to a (here absent) token server with a Bearer challenge. */
  | { readonly kind: 'token' };

/**
 * A real CNCF distribution registry on 127.0.0.1 (random port), TLS from a CA made for it, with htpasswd (bcrypt)
 * or token auth, storage in a temp dir. `stop()` ends it and removes the directory.
 */
export async function startRegistry(tools: Tools, auth: RegistryAuth): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-gate-registry-'));
  const now = new Date();
  const authority = await issueCertificateAuthority('registry-gate test registry CA', now, 1);
  const serving = await issueServingCertificate(
    authority,
    { dns: ['localhost'], ips: ['127.0.0.1'] },
    now,
    1,
  );
  const file = (name: string): string => join(dir, name);
  await writeFile(file('ca.crt'), authority.cert);
  await writeFile(file('tls.crt'), serving.cert);
  await writeFile(file('tls.key'), serving.key, { mode: 0o600 });
  let authConfig: string;
  if (auth.kind === 'htpasswd') {
    const { stdout } = await run('htpasswd', ['-Bbn', auth.user, auth.password]);
    await writeFile(file('htpasswd'), stdout);
    authConfig = `  htpasswd: {realm: registry-gate-test, path: ${file('htpasswd')}}`;
  } else {
    authConfig = `  token: {realm: "https://127.0.0.1:1/token", service: registry-gate-test, issuer: test, rootcertbundle: ${file('ca.crt')}}`;
  }
  await writeFile(
    file('config.yml'),
    [
      'version: 0.1',
      'log: {level: info, accesslog: {disabled: false}}',
      `storage: {filesystem: {rootdirectory: ${file('data')}}}`,
      `http: {addr: "127.0.0.1:0", secret: test, tls: {certificate: ${file('tls.crt')}, key: ${file('tls.key')}}}`,
      'auth:',
      authConfig,
      '',
    ].join('\n'),
  );
  const child = spawn(tools.registry, ['serve', file('config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: string): void => {
    output += d;
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  const stop = async (): Promise<void> => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const host = await listeningOn(child, () => output);
    await untilAnswering(host, authority.cert);
    return { host, ca: authority.cert, caFile: file('ca.crt'), dir, log: async () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The address from the registry's "listening on 127.0.0.1:PORT, tls" line, within 10 s. */
async function listeningOn(child: ChildProcess, output: () => string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const match = /listening on (127\.0\.0\.1:\d+)/.exec(output());
    if (match?.[1] !== undefined) return match[1];
    if (child.exitCode !== null) throw new Error(`registry exited ${child.exitCode}: ${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`registry did not start in 10 s: ${output()}`);
}

/** Until `GET /v2/` gets any HTTP answer over TLS (401 included), at most 5 s. */
async function untilAnswering(host: string, ca: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const answered = await new Promise<boolean>((resolveAnswer) => {
      request(`https://${host}/v2/`, { ca, timeout: 1000 }, (res) => {
        res.resume();
        resolveAnswer(true);
      })
        .once('error', () => resolveAnswer(false))
        .once('timeout', function (this: { destroy(): void }) {
          this.destroy();
        })
        .end();
    });
    if (answered) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`registry on ${host} does not answer`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A docker config directory whose config.json holds `auths` for `host`, as `docker login` writes it. */
export async function dockerConfig(entries: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-gate-docker-config-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify(entries));
  return dir;
}

export const basicAuth = (user: string, password: string): string =>
  Buffer.from(`${user}:${password}`).toString('base64');

/** Runs crane against a test registry: its CA trusted, credentials from `dockerConfigDir` (or none). */
export async function crane(
  tools: Tools,
  args: readonly string[],
  registry: TestRegistry,
  dockerConfigDir?: string,
): Promise<string> {
  // Only the test CA: this machine's SSL_CERT_DIR would add its own.
  const env = { ...process.env };
  delete env['SSL_CERT_DIR'];
  const { stdout } = await run(tools.crane, [...args], {
    env: { ...env, SSL_CERT_FILE: registry.caFile, DOCKER_CONFIG: dockerConfigDir ?? registry.dir },
    maxBuffer: 512 * 1024 * 1024,
    encoding: 'buffer',
  });
  return stdout.toString('utf8');
}
