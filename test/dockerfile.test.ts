import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyzStatus, servingPort, stopServe } from './helpers/serve-process.js';
import { BUILD_INPUTS, IMAGE, parsePins, ROOTFS_DIR, type Pins } from '../scripts/image/plan.js';

// No Docker engine runs here, so this checks what can be checked without one: what the Dockerfile copies exists
// and is not excluded, it builds what the scripted build (`npm run image`, scripts/image/) builds from the same pins
// to the same paths with the same runtime settings, and the image's command works from dist/ with the production
// dependencies alone, installed as the Dockerfile installs them. test/image/ builds and runs the scripted image.

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
async function dockerfile(): Promise<Instruction[]> {
  const text = await readFile(join(root, 'Dockerfile'), 'utf8');
  return text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [op = '', ...rest] = l.trim().split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The stages by name (`AS name`; the last, unnamed one is `final`). */
function stages(all: readonly Instruction[]): Map<string, Instruction[]> {
  const byName = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const instruction of all) {
    if (instruction.op === 'FROM') {
      current = [instruction];
      byName.set(/\bAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? 'final', current);
    } else current.push(instruction);
  }
  return byName;
}

const stage = (all: readonly Instruction[], name: string): Instruction[] => {
  const found = stages(all).get(name);
  if (found === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  return found;
};
const args = (instructions: readonly Instruction[], op: string): string[] =>
  instructions.filter((i) => i.op === op).map((i) => i.args);
/** `KEY=value KEY2="value 2"` (ARG, ENV, LABEL) as pairs. */
const pairs = (text: string): [string, string][] =>
  [...text.matchAll(/([\w.-]+)=("([^"]*)"|\S+)/g)].map((m) => [m[1] ?? '', m[3] ?? m[2] ?? '']);

describe('Dockerfile', () => {
  it('copies from the build context only files that exist and that .dockerignore lets through', async () => {
    const ignore = (await readFile(join(root, '.dockerignore'), 'utf8'))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = (await dockerfile())
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(' ').slice(0, -1))
      .map((source) => source.replace(/\/$/, ''));
    expect([...new Set(copied)].sort()).toEqual([
      'package-lock.json',
      'package.json',
      'scripts/image/pins.json',
      'scripts/image/rootfs',
      'scripts/lts-node.sh',
      'src',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    for (const source of copied) {
      await expect(stat(join(root, source)), source).resolves.toBeTruthy();
      expect(allowed, `${source} must be let through .dockerignore`).toContain(source);
    }
  });

  describe('builds what `npm run image` builds (scripts/image/plan.ts and pins.json)', () => {
    let all: Instruction[];
    let pins: Pins;
    beforeAll(async () => {
      all = await dockerfile();
      pins = parsePins(await readFile(join(root, 'scripts/image/pins.json'), 'utf8'));
    });

    it('unpacks the same pinned Debian packages over the same root files', () => {
      const base = stage(all, 'base');
      expect(base[0]?.args).toBe(`debian:${pins.debian.release}-slim AS base`);
      const declared = new Map(args(base, 'ARG').flatMap(pairs));
      expect(declared.get('DEBIAN_PACKAGES')?.split(' ')).toEqual(pins.debian.packages);
      expect(args(base, 'RUN').join(' ')).toMatch(/apt-get download \$DEBIAN_PACKAGES.*dpkg-deb -x/);
      expect(args(base, 'COPY')).toEqual([`${ROOTFS_DIR}/ /rootfs/`]);
    });

    it('ships the pinned Node LTS, fetched by the same script, and compiles and installs on its major', () => {
      const major = pins.node.version.split('.')[0];
      for (const name of ['node', 'build', 'production-dependencies'])
        expect(stage(all, name)[0]?.args).toBe(`node:${major}-${pins.debian.release}-slim AS ${name}`);
      expect(args(stage(all, 'node'), 'RUN').join(' ')).toContain('bash scripts/lts-node.sh');
      expect(args(stage(all, 'build'), 'COPY').flatMap((a) => a.split(' ').slice(0, -1))).toEqual(
        expect.arrayContaining(BUILD_INPUTS),
      );
      expect(args(stage(all, 'build'), 'RUN')).toContain('npm run build');
      expect(args(stage(all, 'production-dependencies'), 'RUN').join(' ')).toContain(
        'npm ci --omit=dev --ignore-scripts',
      );
    });

    it('puts everything at the same paths in an image from scratch: no shell, no package manager', () => {
      const final = stage(all, 'final');
      expect(final[0]?.args).toBe('scratch');
      expect(args(final, 'COPY')).toEqual([
        '--from=base /rootfs/ /',
        `--from=node /lts/bin/node ${IMAGE.paths.node}`,
        `--from=node /lts/LICENSE ${IMAGE.paths.nodeLicense}`,
        `--from=production-dependencies /app/package.json ${IMAGE.paths.packageJson}`,
        `--from=production-dependencies /app/node_modules ${IMAGE.paths.nodeModules}`,
        `--from=build /src/dist ${IMAGE.paths.dist}`,
      ]);
    });

    it('runs with the same user, entrypoint, command, working directory, environment, port and labels', async () => {
      const final = stage(all, 'final');
      expect(args(final, 'USER')).toEqual([IMAGE.user]);
      expect(IMAGE.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(args(final, 'ENTRYPOINT').map((a) => JSON.parse(a) as unknown)).toEqual([IMAGE.entrypoint]);
      expect(args(final, 'CMD').map((a) => JSON.parse(a) as unknown)).toEqual([IMAGE.cmd]);
      expect(args(final, 'WORKDIR')).toEqual([IMAGE.workdir]);
      expect(
        args(final, 'ENV')
          .flatMap(pairs)
          .map(([k, v]) => `${k}=${v}`),
      ).toEqual(IMAGE.env);
      expect(args(final, 'EXPOSE').map((port) => `${port}/tcp`)).toEqual(IMAGE.exposedPorts);
      const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string })
        .version;
      expect(new Map(args(final, 'ARG').flatMap(pairs)).get('VERSION')).toBe(version);
      expect(Object.fromEntries(args(final, 'LABEL').flatMap(pairs))).toEqual({
        ...IMAGE.labels,
        'org.opencontainers.image.version': '${VERSION}',
      });
    });
  });

  describe('the image layout: dist/ with production dependencies only', () => {
    let app: string;
    beforeAll(async () => {
      app = await mkdtemp(join(tmpdir(), 'registry-gate-image-'));
      await cp(join(root, 'package.json'), join(app, 'package.json'));
      await cp(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
      await run(
        'npm',
        ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
        {
          cwd: app,
        },
      );
      // Compiled afresh into the layout (other tests rebuild dist/ of the checkout meanwhile).
      await run(process.execPath, [
        join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(root, 'tsconfig.build.json'),
        '--outDir',
        join(app, 'dist'),
      ]);
    }, 180_000);
    afterAll(async () => {
      if (app) await rm(app, { recursive: true, force: true });
    });

    it('has no dev dependency installed', async () => {
      await expect(stat(join(app, 'node_modules', 'vitest'))).rejects.toThrow();
      await expect(stat(join(app, 'node_modules', 'typescript'))).rejects.toThrow();
      await expect(stat(join(app, 'node_modules', 'express'))).resolves.toBeTruthy();
    });

    it('runs the entrypoint: the CLI answers, and serve becomes ready with generated certificates', async () => {
      const explained = await run(
        process.execPath,
        [join(app, 'dist/main.js'), 'explain', '-o', 'json', 'nginx'],
        {
          cwd: app,
        },
      );
      expect(JSON.parse(explained.stdout)).toMatchObject({
        final: 'registry.internal/docker.io/library/nginx',
        decision: 'allow',
      });
      const server = spawn(
        process.execPath,
        [
          join(app, 'dist/main.js'),
          'serve',
          '--host=127.0.0.1',
          '--port=0',
          `--cert-dir=${join(app, 'certs')}`,
        ],
        {
          cwd: app,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      try {
        const port = await servingPort(server);
        const ca = await readFile(join(app, 'certs', 'ca.crt'), 'utf8');
        expect(await readyzStatus(port, ca)).toBe(200);
      } finally {
        await stopServe(server);
      }
    });
  });
});
