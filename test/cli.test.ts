// The CLI as users run it: the built binary, real processes, stdout/stderr and exit codes.
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPLAIN_CONTRACT_FIELDS as CONTRACT_FIELDS } from './helpers/explain-contract.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'dist', 'main.js');
const policy = join(root, 'examples', 'mycorp-policy.yaml');

beforeAll(() => {
  // The bin users get is the compiled one: test exactly that.
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  expect(build.status, build.stdout + build.stderr).toBe(0);
  // npx runs the bin file itself: it must be executable, as `npm run build` leaves it.
  chmodSync(bin, 0o755);
}, 120_000);

function run(args: string[], stdin?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { input: stdin ?? '', encoding: 'utf8', cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('registry-gate explain', () => {
  it('prints one JSON object per stdin line, in order, with exactly the contract fields', () => {
    const r = run(
      ['explain', '--policy', policy, '-o', 'json', '-'],
      'nginx\nquay.io/org/app:1\n\nbad image\n',
    );
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((x) => x['input'])).toEqual(['nginx', 'quay.io/org/app:1', 'bad image']);
    for (const rec of records) expect(Object.keys(rec)).toEqual(CONTRACT_FIELDS);
    expect(records[0]).toEqual({
      input: 'nginx',
      valid: true,
      error: null,
      resolved: 'docker.io/library/nginx',
      domain: 'docker.io',
      path: 'library/nginx',
      tag: null,
      digest: null,
      final: 'registry.mycorp.com/dockerhub/library/nginx',
      mirror: 'docker.io',
      decision: 'allow',
      code: null,
      rule: 'registry.mycorp.com',
      pullSecrets: ['mycorp-pull'],
      warnings: [],
    });
    expect(records[2]).toMatchObject({
      valid: false,
      error: { code: 'INVALID_FORMAT', message: 'invalid reference format' },
      decision: 'deny',
      code: 'INVALID_IMAGE_REF',
    });
    expect(r.code).toBe(1);
  });

  it('exits 0 when every image is allowed, and prints blocks for people', () => {
    const r = run(['explain', '--policy', policy, 'nginx:1.27', 'rhel7/etcd']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'nginx:1.27\n  resolved  docker.io/library/nginx:1.27\n  final     registry.mycorp.com/dockerhub/library/nginx:1.27 (mirror of docker.io)',
    );
    expect(r.stdout).toContain('registry.mycorp.com/redhat/rhel7/etcd');
  });

  it('runs as `npx registry-gate` in the built checkout (the interface docs/architecture.md promises)', () => {
    const r = spawnSync('npx', ['--no-install', 'registry-gate', 'explain', '-o', 'json', 'nginx'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      input: 'nginx',
      final: 'registry.internal/docker.io/library/nginx',
    });
  });

  it('works with the built-in policy', () => {
    const r = run(['explain', '-o', 'json', 'quay.io/a/b']);
    expect(JSON.parse(r.stdout)).toMatchObject({
      final: 'registry.internal/quay.io/a/b',
      decision: 'allow',
      pullSecrets: ['registry-internal-pull'],
    });
  });

  it('says what is wrong with a bad policy file, without a stack trace, exit 2', () => {
    const r = run(['explain', '--policy', 'no-such-file.yaml', 'nginx']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^registry-gate: cannot read policy no-such-file.yaml/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects an unknown output format as a usage error', () => {
    const r = run(['explain', '-o', 'xml', 'nginx']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('text or json');
  });
});

describe('registry-gate policy check', () => {
  it('accepts a valid policy', () => {
    const r = run(['policy', 'check', policy]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid');
  });

  it('prints every error with its field path, exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rg-cli-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec:\n  mode: loud\n  registrySources: {allowedRegistries: [a.io], blockedRegistries: [b.io]}\n',
    );
    const r = run(['policy', 'check', file]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      `${file}: spec.mode: must be one of enforce, warn, audit, not "loud"`,
      `${file}: spec.registrySources: set allowedRegistries or blockedRegistries, not both (as OpenShift: one list decides)`,
    ]);
  });
});

/** `registry-gate serve` on a policy it must refuse: the exit code and stderr (or stdout, should it start). */
function serveExpectingFailure(
  dir: string,
  policyFile: string,
  flags: string[] = [],
): Promise<{ code: number; stderr: string } | { stdout: string; stderr: string }> {
  const args = [
    bin,
    'serve',
    ...flags,
    '--policy',
    policyFile,
    '--port',
    '0',
    '--cert-dir',
    join(dir, 'certs'),
  ];
  // Killed after 15 s should it start after all, so the test fails instead of leaving a server behind.
  return promisify(execFile)(process.execPath, args, { timeout: 15_000 }).catch(
    (e: { code: number; stderr: string }) => e,
  );
}

describe('a policy that restricts nothing', () => {
  it.each([
    ['no spec', 'apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\n'],
    ['an empty spec', 'apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec: {}\n'],
    [
      'an empty block list',
      'apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec: {registrySources: {blockedRegistries: []}}\n',
    ],
  ])('with %s: policy check says so loudly, and stays exit 0', async (_name, text) => {
    const dir = await mkdtemp(join(tmpdir(), 'rg-cli-'));
    const file = join(dir, 'open.yaml');
    await writeFile(file, text);
    const r = run(['policy', 'check', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid');
    expect(r.stderr).toMatch(/warning: .*restricts nothing/);
  });

  it('serve --require-restriction refuses it, exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rg-cli-'));
    const file = join(dir, 'open.yaml');
    await writeFile(file, 'apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec: {}\n');
    const r = await serveExpectingFailure(dir, file, ['--require-restriction']);
    expect('code' in r ? r.code : 0).toBe(2);
    expect(r.stderr).toMatch(/restricts nothing/);
  });
});

describe('registry-gate serve', () => {
  it('refuses to start on an invalid policy with every error, exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rg-cli-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec:\n  mode: loud\n',
    );
    const r = await serveExpectingFailure(dir, file);
    expect('code' in r ? r.code : 0).toBe(2);
    expect(r.stderr).toContain('spec.mode: must be one of enforce, warn, audit, not "loud"');
  });
});

describe('user mistakes: one line that says what is wrong and how to fix it, exit 2', () => {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;

  it.each([['--version'], ['-V'], ['version']])('%s prints the version alone on one line', (arg) => {
    const r = run([arg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it('audit --cluster without any kubeconfig says where one is looked for', async () => {
    const home = await mkdtemp(join(tmpdir(), 'rg-no-kubeconfig-'));
    const r = spawnSync(process.execPath, [bin, 'audit', '--cluster'], {
      encoding: 'utf8',
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', HOME: home },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^registry-gate: no kubeconfig found: pass --kubeconfig FILE, set \$KUBECONFIG/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [['serve', '--log-level', 'bogus'], /--log-level.*use fatal, error, warn, info, debug, trace or silent/],
    [['serve', '--port', 'x'], /--port.*use a port from 0 to 65535/],
    [['explain'], /missing required argument 'images'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['audit', '--clusterr'], /unknown option '--clusterr'.*--cluster/],
    [['policy', 'check', 'no-such-policy.yaml'], /cannot read no-such-policy\.yaml/],
  ])('%j', (args, message) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^registry-gate: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the help lists the exit codes', () => {
    expect(run(['--help']).stdout).toMatch(
      /Exit codes:\n {2}0 .*\n {2}1 .*\n[\s\S]* {2}2 .*\n[\s\S]* {2}70 /,
    );
  });
});
