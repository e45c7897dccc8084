import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipLayer } from '../scripts/image/compress.js';
import { ImageError, type ImageErrorCode } from '../scripts/image/errors.js';
import { writeLayout, type Layout } from '../scripts/image/oci.js';
import { imageConfig } from '../scripts/image/plan.js';
import { pushLayout } from '../scripts/image/push/push.js';
import { parsePushTarget } from '../scripts/image/push/target.js';
import { writeLayer } from '../scripts/image/tar.js';
import {
  basicAuth,
  crane,
  dockerConfig,
  registryTools,
  startRegistry,
  type TestRegistry,
  type Tools,
} from './helpers/registry.js';

// `npm run image -- --push`'s client against a real CNCF distribution registry on loopback, with TLS from a CA made
// here and htpasswd (bcrypt) auth, then read back with crane. A small image stands in for the real one (which
// test/image/ builds and pushes): the protocol is the same, and this stays fast.

const tools = await registryTools(20_000);
if (typeof tools === 'string') console.warn(`image push tests skipped: ${tools}`);

const ROBOT = { user: 'robot', password: 'pull-and-push-only' };

describe.skipIf(typeof tools === 'string')('image push to a registry with TLS and htpasswd auth', () => {
  let registry: TestRegistry;
  let work: string;
  let layout: Layout;
  let robotConfig: string;
  const logs: string[] = [];
  const push = async (ref: string, options: { ca?: string; config?: string } = {}): Promise<string> =>
    await pushLayout(layout.dir, parsePushTarget(ref), {
      ca: options.ca ?? registry.ca,
      dockerConfigDir: options.config ?? robotConfig,
      log: (line) => logs.push(line),
    });
  const code = async (pushing: Promise<unknown>): Promise<ImageErrorCode | string> => {
    const error = await pushing.then(
      () => 'pushed',
      (e: unknown) => e,
    );
    return error instanceof ImageError ? error.code : String(error);
  };

  beforeAll(async () => {
    registry = await startRegistry(tools as Tools, { kind: 'htpasswd', ...ROBOT });
    work = await mkdtemp(join(tmpdir(), 'registry-gate-push-'));
    const created = new Date('2026-01-02T03:04:05Z');
    const tar = await writeLayer(
      [{ kind: 'file', path: 'hello.txt', mode: 0o644, content: { data: Buffer.from('hello\n') } }],
      join(work, 'layer.tar'),
      created,
    );
    const blob = await gzipLayer(tar, join(work, 'layer.tar.gz'));
    const config = imageConfig({ version: 'test', created, diffIds: [tar.diffId], layerNotes: ['hello'] });
    layout = await writeLayout(join(work, 'oci'), config, [blob], 'test', {
      architecture: 'amd64',
      os: 'linux',
    });
    robotConfig = await dockerConfig({
      auths: { [registry.host]: { auth: basicAuth(ROBOT.user, ROBOT.password) } },
    });
  });
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (robotConfig) await rm(robotConfig, { recursive: true, force: true });
  });

  it('pushes with the docker config.json credentials, and crane reads back the same manifest and config', async () => {
    const ref = `${registry.host}/registry-gate/registry-gate:test`;
    expect(await push(ref)).toBe(`${ref}@${layout.manifest.digest}`);
    expect((await crane(tools as Tools, ['digest', ref], registry, robotConfig)).trim()).toBe(
      layout.manifest.digest,
    );
    const config = JSON.parse(await crane(tools as Tools, ['config', ref], registry, robotConfig)) as {
      config: { User: string; Entrypoint: string[] };
    };
    expect(config.config.User).toBe('65532:65532');
    expect(config.config.Entrypoint).toEqual(['/usr/local/bin/node', '/app/dist/main.js']);
    const manifest = JSON.parse(await crane(tools as Tools, ['manifest', ref], registry, robotConfig)) as {
      mediaType: string;
    };
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    // The registry saw the robot user, not an anonymous push.
    expect(await registry.log()).toMatch(/auth\.user\.name="?robot/);
  });

  it('uploads no blob twice: a second tag only finds them and puts the manifest', async () => {
    logs.length = 0;
    await push(`${registry.host}/registry-gate/registry-gate:again`);
    expect(logs.filter((l) => l.includes('uploaded'))).toEqual([]);
    expect(logs.filter((l) => l.includes('already there'))).toHaveLength(2);
  });

  it('stops with one line and a stable code when it may not or cannot push', async () => {
    const ref = `${registry.host}/registry-gate/registry-gate:refused`;
    const wrong = await dockerConfig({
      auths: { [registry.host]: { auth: basicAuth(ROBOT.user, 'wrong') } },
    });
    const none = await dockerConfig({ auths: {} });
    const helper = await dockerConfig({ credHelpers: { [registry.host]: 'pass' } });
    try {
      expect(await code(push(ref, { config: wrong }))).toBe('UNAUTHORIZED');
      expect(await code(push(ref, { config: none }))).toBe('UNAUTHORIZED');
      expect(await code(push(ref, { config: helper }))).toBe('CREDENTIALS');
      // Without --ca-file the registry's private CA is not trusted: no silent fallback to an unverified connection.
      const untrusted = await pushLayout(layout.dir, parsePushTarget(ref), {
        dockerConfigDir: robotConfig,
        log: () => undefined,
      }).catch((e: unknown) => e);
      expect(untrusted).toBeInstanceOf(ImageError);
      expect((untrusted as ImageError).code).toBe('PUSH');
      expect((untrusted as ImageError).message).toMatch(/certificate/i);
    } finally {
      for (const dir of [wrong, none, helper]) await rm(dir, { recursive: true, force: true });
    }
    const tags = await crane(
      tools as Tools,
      ['ls', `${registry.host}/registry-gate/registry-gate`],
      registry,
      robotConfig,
    );
    expect(tags.split('\n')).not.toContain('refused');
  });

  it('says that a registry asking for a Bearer token is not supported yet, before sending anything', async () => {
    const tokenRegistry = await startRegistry(tools as Tools, { kind: 'token' });
    try {
      const error = await push(`${tokenRegistry.host}/registry-gate/registry-gate:test`, {
        ca: tokenRegistry.ca,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageError);
      expect((error as ImageError).code).toBe('AUTH_UNSUPPORTED');
      expect((error as ImageError).message).toMatch(/Bearer/);
      expect(await tokenRegistry.log()).not.toMatch(/blobs\/uploads/);
    } finally {
      await tokenRegistry.stop();
    }
  });
});
