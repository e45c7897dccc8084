import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// No Docker engine runs here, so this checks what can be checked without one: what the Dockerfile copies exists
// and is not excluded, the runtime stage runs as a numeric non-root user, and the image's command works from dist/
// with the production dependencies alone, installed as the Dockerfile installs them.

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Instruction {
  readonly op: string;
  readonly args: string;
}

async function dockerfile(): Promise<Instruction[]> {
  const text = await readFile(join(root, 'Dockerfile'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.trim().split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The runtime stage: everything after the last FROM. */
const finalStage = (all: Instruction[]): Instruction[] => all.slice(all.map((i) => i.op).lastIndexOf('FROM'));

describe('Dockerfile', () => {
  it('copies from the build context only files that exist and that .dockerignore lets through', async () => {
    const ignore = (await readFile(join(root, '.dockerignore'), 'utf8'))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = (await dockerfile())
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(' ').slice(0, -1));
    expect([...new Set(copied)].sort()).toEqual([
      'package-lock.json',
      'package.json',
      'src',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    for (const source of copied) {
      await expect(stat(join(root, source)), source).resolves.toBeTruthy();
      expect(allowed, `${source} must be let through .dockerignore`).toContain(source);
    }
  });

  it('runs the current Node LTS as a numeric non-root user, exposes 8443 and serves by default', async () => {
    const all = await dockerfile();
    expect(all.filter((i) => i.op === 'FROM').map((i) => i.args.split(' ')[0])).toEqual(
      Array(3).fill('node:26-slim'),
    );
    const runtime = finalStage(all);
    expect(runtime.find((i) => i.op === 'USER')?.args).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(runtime.find((i) => i.op === 'EXPOSE')?.args).toBe('8443');
    expect(runtime.find((i) => i.op === 'ENTRYPOINT')?.args).toBe('["node", "/app/dist/main.js"]');
    expect(runtime.find((i) => i.op === 'CMD')?.args).toBe('["serve"]');
    // The runtime image holds no source, no dev dependencies, no certificates.
    expect(runtime.filter((i) => i.op === 'COPY').map((i) => i.args)).toEqual([
      '--from=production-dependencies /app/package.json ./package.json',
      '--from=production-dependencies /app/node_modules ./node_modules',
      '--from=build /src/dist ./dist',
    ]);
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
      const { spawn } = await import('node:child_process');
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
        const line = await new Promise<string>((resolveLine, reject) => {
          let out = '';
          server.stdout.setEncoding('utf8').on('data', (d: string) => {
            out += d;
            const serving = out.split('\n').find((l) => l.includes('"registry-gate serving"'));
            if (serving) resolveLine(serving);
          });
          server.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
        });
        const port = (JSON.parse(line) as { port: number }).port;
        const ca = await readFile(join(app, 'certs', 'ca.crt'), 'utf8');
        const { request } = await import('node:https');
        const status = await new Promise<number>((resolveStatus, reject) => {
          request(`https://127.0.0.1:${port}/readyz`, { ca }, (res) => {
            res.resume();
            resolveStatus(res.statusCode ?? 0);
          })
            .once('error', reject)
            .end();
        });
        expect(status).toBe(200);
      } finally {
        server.kill('SIGTERM');
      }
    });
  });
});
