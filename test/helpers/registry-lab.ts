import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  htpasswdFile,
  layerTar,
  makeCrane,
  makePki,
  startRegistry,
  startTokenServer,
  type RunningRegistry,
  type TestPki,
  type TokenServer,
} from './registry.js';
import type { RegistryTools } from './registry-tools.js';

export const ROBOT = { username: 'robot', password: 'r0bot-pass' };

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
  readonly pki: TestPki;
  /** htpasswd (Basic) registry. */
  readonly basic: RunningRegistry;
  /** Token-auth registry on the same storage, behind {@link tokenServer}. */
  readonly token: RunningRegistry;
  readonly tokenServer: TokenServer;
  readonly images: LabImages;
  /** A docker config JSON text with the robot's credentials for both registries. */
  dockerConfig(credentials?: { username: string; password: string }): string;
  stop(): Promise<void>;
}

/**
 * Two real registries sharing one storage: `basic` with htpasswd, `token` with the distribution token flow behind
 * a token server of the test, both TLS with a test CA, the same images pushed by crane. Everything it starts is
 * stopped by `stop()`, also when the start fails half-way.
 */
export async function startRegistryLab(tools: RegistryTools): Promise<RegistryLab> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-gate-lab-'));
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki = await makePki(dir);
    const names = { dns: ['localhost'], ips: ['127.0.0.1'] };
    const serving = await pki.serving('registry', names);
    const storageDir = join(dir, 'storage');
    await mkdir(storageDir);
    const htpasswd = join(dir, 'htpasswd');
    await htpasswdFile(tools, htpasswd, { [ROBOT.username]: ROBOT.password });
    const basic = await startRegistry(tools, {
      dir,
      storageDir,
      tls: serving,
      auth: { kind: 'htpasswd', file: htpasswd },
      caFile: pki.caFile,
    });
    stops.push(basic.stop);

    const signing = await pki.serving('token-signing', { dns: ['token-signing'], ips: [] });
    const tokenServer = await startTokenServer({
      tls: serving.issued,
      signing: signing.issued,
      issuer: 'registry-gate-test-issuer',
      service: 'registry-gate-test',
      users: { [ROBOT.username]: ROBOT.password },
    });
    stops.push(tokenServer.stop);
    const token = await startRegistry(tools, {
      dir,
      storageDir,
      tls: serving,
      caFile: pki.caFile,
      auth: {
        kind: 'token',
        realm: tokenServer.realm,
        service: 'registry-gate-test',
        issuer: 'registry-gate-test-issuer',
        rootCertBundle: signing.certFile,
      },
    });
    stops.push(token.stop);

    const crane = await makeCrane(tools, dir, pki.caFile, { [basic.host]: ROBOT });
    const push = async (repo: string, content: string): Promise<string> => {
      const ref = `${basic.host}/${repo}`;
      await crane('append', '-f', await layerTar(dir, repo.replaceAll(/[/:]/g, '_'), content), '-t', ref);
      return crane('digest', ref);
    };
    const one = await push('app/one:1.0', 'one');
    const two = await push('app/two:1.0', 'two');
    const other = await push('other/thing:1.0', 'other');
    await crane(
      'index',
      'append',
      '-m',
      `${basic.host}/app/one@${one}`,
      '-m',
      `${basic.host}/app/two@${two}`,
      '-t',
      `${basic.host}/app/multi:1.0`,
    );
    const multi = await crane('digest', `${basic.host}/app/multi:1.0`);
    tokenServer.requests.length = 0;

    const dockerConfig = (credentials = ROBOT): string => {
      const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
      return JSON.stringify({ auths: { [basic.host]: { auth }, [token.host]: { auth } } });
    };
    return { dir, pki, basic, token, tokenServer, images: { one, two, multi, other }, dockerConfig, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
