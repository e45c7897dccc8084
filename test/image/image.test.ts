import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../../scripts/image/build.js';
import { IMAGE, parsePins, ROOTFS_DIR } from '../../scripts/image/plan.js';
import {
  basicAuth,
  crane,
  dockerConfig,
  registryTools,
  startRegistry,
  type TestRegistry,
  type Tools,
} from '../helpers/registry.js';
import { readyzStatus, servingPort, stopServe } from '../helpers/serve-process.js';

// The production image as CI builds it: `npm run image` twice (another umask, another TMPDIR: the same digest),
// the second time pushed to a real distribution registry with TLS and htpasswd auth; crane reads it back; and the
// exported filesystem really runs: Node and `registry-gate serve` as the image's user, chrooted into it (as root).
// Also: the Dockerfile's base stage, run without Docker, unpacks the same files as the image's base layer.

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const main = join(root, 'dist-scripts/scripts/image/main.js');
const isRoot = process.getuid?.() === 0;
const missing = await prerequisites();
if (missing !== undefined) console.warn(`image tests skipped: ${missing}`);
if (missing === undefined && !isRoot) console.warn('image tests: the chroot checks skipped: they need root');

/** What the scripted build needs: a Debian amd64 builder with dpkg-deb and apt-get. */
async function prerequisites(): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `the image is built on linux/x64, this is ${process.platform}/${process.arch}`;
  for (const tool of ['dpkg-deb', 'apt-get'])
    if (
      await run('sh', ['-c', `command -v ${tool}`]).then(
        () => false,
        () => true,
      )
    )
      return `${tool} not found: the image's base is unpacked from Debian packages`;
  return undefined;
}

interface Cli {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function image(args: readonly string[], env: NodeJS.ProcessEnv = {}, umask = '0022'): Promise<Cli> {
  // Through a shell only to set the umask: the build must not depend on it.
  const command = `umask ${umask} && exec npm run -s image -- "$@"`;
  return await new Promise((resolveRun) => {
    execFile(
      'sh',
      ['-c', command, 'sh', ...args],
      { cwd: root, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolveRun({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

const field = (out: string, name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(out)?.[1] ?? '';

const tools = missing === undefined ? await registryTools(600_000) : 'not needed';
if (missing === undefined && typeof tools === 'string') console.warn(`image push checks skipped: ${tools}`);

describe.skipIf(missing !== undefined)('the production image (npm run image)', () => {
  let registry: TestRegistry | undefined;
  let work: string;
  let first: Cli;
  let second: Cli;
  let built: BuildResult;
  let ref: string;
  let robotConfig: string;
  /** The image's filesystem: its layers unpacked in order. */
  let rootfs: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'registry-gate-image-test-'));
    first = await image([]);
    if (first.code !== 0) throw new Error(`npm run image failed: ${first.stderr}`);
    built = JSON.parse(await readFile(join(root, 'dist-image/image.json'), 'utf8')) as BuildResult;
    rootfs = join(work, 'rootfs');
    await run('mkdir', ['-p', rootfs]);
    for (const layer of built.layers)
      await run('tar', [
        '-xzf',
        join(built.layout, 'blobs/sha256', layer.digest.slice('sha256:'.length)),
        '-C',
        rootfs,
      ]);

    // The second build pushes when a registry can be had.
    let push: string[] = [];
    if (typeof tools !== 'string') {
      registry = await startRegistry(tools, { kind: 'htpasswd', user: 'robot', password: 'image-test' });
      robotConfig = await dockerConfig({
        auths: { [registry.host]: { auth: basicAuth('robot', 'image-test') } },
      });
      ref = `${registry.host}/registry-gate/registry-gate:test`;
      push = ['--push', ref, '--ca-file', registry.caFile];
    }
    second = await image(push, { DOCKER_CONFIG: robotConfig, TMPDIR: work }, '0002');
    if (second.code !== 0) throw new Error(`the second npm run image failed: ${second.stderr}`);
  });
  afterAll(async () => {
    await registry?.stop();
    if (robotConfig) await rm(robotConfig, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('prints the archive, the digest and the sizes, and writes an OCI image layout archive', async () => {
    expect(field(first.stdout, 'archive')).toBe(
      join(root, `dist-image/registry-gate-${built.version}.oci.tar`),
    );
    expect(field(first.stdout, 'digest')).toBe(built.digest);
    expect(field(first.stdout, 'size')).toMatch(/^\d+\.\d MB compressed, \d+\.\d MB unpacked$/);
    const { stdout } = await run('tar', ['-tf', built.archive]);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'oci-layout',
        'index.json',
        `blobs/sha256/${built.digest.slice('sha256:'.length)}`,
      ]),
    );
    const index = JSON.parse(await readFile(join(built.layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; platform: unknown }[];
    };
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: built.digest, platform: { architecture: 'amd64', os: 'linux' } }),
    ]);
  });

  it.each([
    ['an unknown option', ['--bogus']],
    ['--push without REF', ['--push']],
    ['a REF that is no reference', ['--push', 'registry.example/Team/gate']],
    ['--ca-file without --push', ['--ca-file', 'ca.crt']],
    ['an unreadable --ca-file', ['--push', 'registry.example/gate:1', '--ca-file', '/nonexistent/ca.crt']],
  ])('refuses %s before building: one line, no stack, exit 2', async (_name, args) => {
    const refused = await new Promise<Cli>((resolveRun) =>
      execFile(process.execPath, [main, ...args], (error, stdout, stderr) =>
        resolveRun({ code: Number(error?.code ?? 0), stdout, stderr }),
      ),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^npm run image: .+ \(usage: npm run image .*\)\n$/);
    expect(refused.stdout).toBe('');
  });

  it('is reproducible: another build, with another umask and TMPDIR, has the same digest', () => {
    expect(field(second.stdout, 'digest')).toBe(built.digest);
  });

  it('holds Node, the program and its libraries, and no shell or package manager', async () => {
    const exists = async (path: string): Promise<boolean> =>
      await lstat(join(rootfs, path)).then(
        () => true,
        () => false,
      );
    for (const path of [
      'usr/local/bin/node',
      'app/dist/main.js',
      'app/node_modules/express',
      'lib64/ld-linux-x86-64.so.2',
    ])
      expect(await exists(path), path).toBe(true);
    for (const path of [
      'bin/sh',
      'bin/bash',
      'usr/bin/dpkg',
      'usr/bin/apt-get',
      'usr/bin/env',
      'usr/local/bin/npm',
    ])
      expect(await exists(path), path).toBe(false);
    expect(await readdir(join(rootfs, 'bin'))).toEqual([]);
    expect(await readdir(join(rootfs, 'usr/bin'))).toEqual([]);
    expect((await lstat(join(rootfs, 'usr/local/bin/node'))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^nonroot:x:65532:65532:/m);
  });

  describe.skipIf(typeof tools === 'string')(
    'pushed with --push REF --ca-file, credentials from $DOCKER_CONFIG',
    () => {
      const craneTools = tools as Tools;

      it('is in the registry under the tag, as the robot user pushed it', async () => {
        expect(field(second.stdout, 'pushed')).toBe(`${ref}@${built.digest}`);
        expect((await crane(craneTools, ['digest', ref], registry!, robotConfig)).trim()).toBe(built.digest);
        expect(await registry!.log()).toMatch(/auth\.user\.name="?robot/);
      });

      it('runs the gate as the numeric non-root user: entrypoint, command, working directory, environment', async () => {
        const config = JSON.parse(await crane(craneTools, ['config', ref], registry!, robotConfig)) as {
          architecture: string;
          os: string;
          config: Record<string, unknown>;
        };
        expect([config.os, config.architecture]).toEqual(['linux', 'amd64']);
        expect(config.config).toMatchObject({
          User: '65532:65532',
          Entrypoint: IMAGE.entrypoint,
          Cmd: ['serve'],
          WorkingDir: '/app',
          Env: IMAGE.env,
          ExposedPorts: { '8443/tcp': {} },
        });
      });

      it('serves the filesystem that was built (crane export lists the same paths)', async () => {
        const exported = join(work, 'export.tar');
        await crane(craneTools, ['export', ref, exported], registry!, robotConfig);
        const { stdout } = await run('tar', ['-tf', exported], { maxBuffer: 64 * 1024 * 1024 });
        const paths = new Set(
          stdout
            .split('\n')
            .filter(Boolean)
            .map((p) => p.replace(/^\.\//, '').replace(/\/$/, '')),
        );
        expect(paths).toEqual(new Set(Object.keys(await tree(rootfs))));
      });
    },
  );

  describe.skipIf(!isRoot)(
    'runs, chrooted into its filesystem as 65532:65532 with the image’s environment only',
    () => {
      const chroot = (command: readonly string[]): string[] => [
        '-i',
        ...IMAGE.env,
        'chroot',
        '--userspec=65532:65532',
        rootfs,
        ...command,
      ];

      it('node is the pinned LTS', async () => {
        const pins = parsePins(await readFile(join(root, 'scripts/image/pins.json'), 'utf8'));
        const { stdout } = await run('env', chroot([IMAGE.paths.node, '--version']));
        expect(stdout.trim()).toBe(`v${pins.node.version}`);
      });

      it('the entrypoint serves: ready over HTTPS with the certificates it generates', async () => {
        const server = spawn(
          'env',
          chroot([...IMAGE.entrypoint, 'serve', '--host=127.0.0.1', '--port=0', '--cert-dir=/tmp/certs']),
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        try {
          const port = await servingPort(server);
          const ca = await readFile(join(rootfs, 'tmp/certs/ca.crt'), 'utf8');
          expect(await readyzStatus(port, ca)).toBe(200);
        } finally {
          await stopServe(server);
        }
      });
    },
  );

  it.skipIf(!isRoot)(
    'unpacks, from the Dockerfile’s base stage run without Docker, the files of the image’s base layer',
    async () => {
      // The base stage's RUN (less `apt-get update`, which would change this machine) into a directory of ours.
      const dockerfile = (await readFile(join(root, 'Dockerfile'), 'utf8')).replace(/\\\n/g, ' ');
      const base = dockerfile.slice(
        dockerfile.indexOf('AS base'),
        dockerfile.indexOf('\nFROM', dockerfile.indexOf('AS base')),
      );
      const runLine = /^RUN (.*)$/m.exec(base)?.[1] ?? '';
      const target = join(work, 'docker-base');
      const script = runLine.replace(/^apt-get update\s*&&\s*/, '').replaceAll('/rootfs', target);
      const pins = parsePins(await readFile(join(root, 'scripts/image/pins.json'), 'utf8'));
      const debs = join(work, 'debs');
      await run('mkdir', ['-p', debs]);
      await run('sh', ['-ec', script], {
        cwd: debs,
        env: { ...process.env, DEBIAN_PACKAGES: pins.debian.packages.join(' ') },
      });
      await cp(join(root, ROOTFS_DIR), target, { recursive: true });

      const layer = join(work, 'base-layer');
      await run('mkdir', ['-p', layer]);
      await run('tar', [
        '-xzf',
        join(built.layout, 'blobs/sha256', built.layers[0]?.digest.slice(7) ?? ''),
        '-C',
        layer,
      ]);
      expect(await tree(target)).toEqual(await tree(layer));
    },
  );
});

/** Every path under `dir` with its type, mode, and content hash or link target. */
async function tree(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (at: string): Promise<void> => {
    for (const name of (await readdir(join(dir, at))).sort()) {
      const path = at === '' ? name : `${at}/${name}`;
      const stats = await lstat(join(dir, path));
      const mode = (stats.mode & 0o7777).toString(8);
      if (stats.isSymbolicLink()) found[path] = `-> ${await readlink(join(dir, path))}`;
      else if (stats.isDirectory()) {
        found[path] = `dir ${mode}`;
        await walk(path);
      } else
        found[path] = `file ${mode} ${createHash('sha256')
          .update(await readFile(join(dir, path)))
          .digest('hex')}`;
    }
  };
  await walk('');
  return found;
}
