// `npm test` (the README's test command) runs every unit test before the e2e project's globalSetup can start
// the control-plane build (vitest runs every project's globalSetup before any test, whatever groupOrder says),
// and a control-plane build that fails is a failure of its own, never "install Go" on a machine that has Go.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAssets } from './e2e/harness/assets.js';

const root = new URL('..', import.meta.url).pathname;

describe('npm test', () => {
  it('runs the unit project to its end first, then the e2e project (and the rest)', async () => {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const [first, then, ...more] = manifest.scripts['test']?.split('&&').map((s) => s.trim()) ?? [];
    expect(first).toBe('vitest run --project unit');
    expect(then).toMatch(/^vitest run --project e2e( --project [a-z]+)*$/);
    expect(then).not.toMatch(/--project unit/);
    expect(more).toEqual([]);
  });

  it('fails with its own error when the control-plane build fails, though Go is installed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rg-assets-'));
    const path = process.env['PATH'];
    try {
      // A repository whose build script fails, and a `go` that answers: the machine has Go.
      await mkdir(join(dir, 'test/e2e/controlplane'), { recursive: true });
      await writeFile(join(dir, 'test/e2e/controlplane/build.sh'), 'echo "compile error" >&2; exit 3\n');
      await mkdir(join(dir, 'bin'));
      await writeFile(join(dir, 'bin/go'), '#!/bin/sh\necho go version go1.26.0 linux/amd64\n');
      await chmod(join(dir, 'bin/go'), 0o755);
      process.env['PATH'] = `${join(dir, 'bin')}${delimiter}${path ?? ''}`;
      const outcome = await resolveAssets(dir, {}).then(
        (assets) => ({ assets }),
        (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
      );
      expect(outcome).toEqual({
        error: expect.stringMatching(/building the control plane failed or was stopped/),
      });
      expect(JSON.stringify(outcome)).not.toMatch(/install Go/);
    } finally {
      process.env['PATH'] = path;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
