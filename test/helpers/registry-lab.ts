import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { issueCertificateAuthority, issueServingCertificate, type Issued } from '../../src/certs/issue.js';
import {
  basicAuth,
  crane,
  dockerConfig,
  registryTools,
  startRegistry,
  type TestRegistry,
  type Tools,
} from './registry.js';
import { startTokenServer, type TokenServer } from './token-server.js';

const run = promisify(execFile);

export const ROBOT = { username: 'robot', password: 'r0bot-pass' };

/**
 * The registry and crane (test/helpers/registry.ts: built by test/e2e/node/build-tools.sh, waited for at most
 * 20 s), and htpasswd for the registry's bcrypt file; a string says what is missing.
 */
export async function labTools(): Promise<Tools | string> {
  const htpasswd = await run('sh', ['-c', 'command -v htpasswd']).then(
    () => true,
    () => false,
  );
  if (!htpasswd) return 'htpasswd not found (apt-get install apache2-utils)';
  return registryTools(20_000);
}

/** A CA of the lab, and serving certificates it signs for more servers (token server, stand-ins). */
export interface LabPki {
  readonly ca: Issued;
  readonly caFile: string;
  serving(
    name: string,
    names: { dns: string[]; ips: string[] },
  ): Promise<{ certFile: string; issued: Issued }>;
}

/** Images pushed into both registries, with the digests crane reported. */
export interface LabImages {
  /** `app/one:1.0`, a single image manifest. */
  readonly one: string;
  /** `app/two:1.0`, another single image. */
  readonly two: string;
  /** `app/multi:1.0`, an index of `one` and `two`. */
  readonly multi: string;
  /** `other/thing:1.0`. */
  readonly other: string;
}

export interface RegistryLab {
  readonly dir: string;
  readonly pki: LabPki;
  /** htpasswd (Basic) registry. */
  readonly basic: TestRegistry & { readonly port: number };
  /** Token-auth registry on the same storage, behind {@link tokenServer}. */
  readonly token: TestRegistry & { readonly port: number };
  readonly tokenServer: TokenServer;
  readonly images: LabImages;
  /** A docker config JSON text with the robot's credentials (or others) for both registries. */
  dockerConfig(credentials?: { username: string; password: string }): string;
  /** `--pull-secrets-dir` of the lab: {@link writePullSecret} lays Secrets out there. */
  readonly pullSecretsDir: string;
  /** Writes `<pullSecretsDir>/<name>/.dockerconfigjson` (the robot's config by default), as a mounted Secret. */
  writePullSecret(name: string, text?: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Two real registries sharing one storage, both with TLS from the lab's CA: `basic` with htpasswd, `token` with the
 * distribution token flow behind a token server of the test; the same images pushed by crane. Everything it starts
 * is stopped by `stop()`, also when the start fails half-way.
 */
export async function startRegistryLab(tools: Tools): Promise<RegistryLab> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-gate-lab-'));
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const now = new Date();
    const ca = await issueCertificateAuthority('registry-gate lab CA', now, 1);
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, ca.cert);
    const pki: LabPki = {
      ca,
      caFile,
      async serving(name, names) {
        const issued = await issueServingCertificate(ca, names, now, 1);
        const certFile = join(dir, `${name}.crt`);
        await writeFile(certFile, issued.cert);
        return { certFile, issued };
      },
    };
    const storageDir = join(dir, 'storage');
    await mkdir(storageDir);
    const port = (r: TestRegistry): TestRegistry & { port: number } => ({
      ...r,
      port: Number(r.host.split(':')[1]),
    });
    const basic = port(
      await startRegistry(
        tools,
        { kind: 'htpasswd', user: ROBOT.username, password: ROBOT.password },
        { authority: ca, storageDir },
      ),
    );
    stops.push(basic.stop);

    const signing = await pki.serving('token-signing', { dns: ['token-signing'], ips: [] });
    const tls = await pki.serving('token-server', { dns: ['localhost'], ips: ['127.0.0.1'] });
    const tokenServer = await startTokenServer({
      tls: tls.issued,
      signing: signing.issued,
      issuer: 'registry-gate-test-issuer',
      service: 'registry-gate-test',
      users: { [ROBOT.username]: ROBOT.password },
    });
    stops.push(tokenServer.stop);
    const token = port(
      await startRegistry(
        tools,
        {
          kind: 'token',
          realm: tokenServer.realm,
          service: 'registry-gate-test',
          issuer: 'registry-gate-test-issuer',
          rootCertBundle: signing.certFile,
        },
        { authority: ca, storageDir },
      ),
    );
    stops.push(token.stop);

    const configDir = await dockerConfig({
      auths: { [basic.host]: { auth: basicAuth(ROBOT.username, ROBOT.password) } },
    });
    stops.push(() => rm(configDir, { recursive: true, force: true }));
    const craned = async (...args: string[]): Promise<string> =>
      (await crane(tools, args, basic, configDir)).trim();
    const push = async (repo: string, content: string): Promise<string> => {
      const ref = `${basic.host}/${repo}`;
      await craned('append', '-f', await layerTar(dir, repo.replaceAll(/[/:]/g, '_'), content), '-t', ref);
      return craned('digest', ref);
    };
    const one = await push('app/one:1.0', 'one');
    const two = await push('app/two:1.0', 'two');
    const other = await push('other/thing:1.0', 'other');
    await craned(
      'index',
      'append',
      '-m',
      `${basic.host}/app/one@${one}`,
      '-m',
      `${basic.host}/app/two@${two}`,
      '-t',
      `${basic.host}/app/multi:1.0`,
    );
    const multi = await craned('digest', `${basic.host}/app/multi:1.0`);
    tokenServer.requests.length = 0;

    const configText = (credentials = ROBOT): string => {
      const auth = basicAuth(credentials.username, credentials.password);
      return JSON.stringify({ auths: { [basic.host]: { auth }, [token.host]: { auth } } });
    };
    const pullSecretsDir = join(dir, 'pull-secrets');
    const writePullSecret = async (name: string, text = configText()): Promise<void> => {
      await mkdir(join(pullSecretsDir, name), { recursive: true });
      await writeFile(join(pullSecretsDir, name, '.dockerconfigjson'), text);
    };
    return {
      dir,
      pki,
      pullSecretsDir,
      writePullSecret,
      basic,
      token,
      tokenServer,
      images: { one, two, multi, other },
      dockerConfig: configText,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A one-file layer tarball, distinct per `content`, for `crane append` onto scratch. */
async function layerTar(dir: string, name: string, content: string): Promise<string> {
  const src = join(dir, `layer-${name}`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'hello.txt'), content);
  const tar = join(dir, `layer-${name}.tar`);
  await run('tar', ['-C', src, '-cf', tar, 'hello.txt']);
  return tar;
}
