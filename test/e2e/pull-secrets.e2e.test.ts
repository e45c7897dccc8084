import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManagedProcess } from './harness/process.js';
import {
  cluster,
  describeE2E,
  ok,
  repoRoot,
  startGate,
  waitFor,
  type Gate,
  type Kubectl,
} from './harness/index.js';

const GATE_NS = 'registry-gate-system';
const LEASE_SECONDS = 4;
const COPY_SELECTOR = 'app.kubernetes.io/managed-by=registry-gate,registry-gate.io/copy-of';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const dockerConfig = (password: string): string =>
  b64(JSON.stringify({ auths: { 'registry.mycorp.com': { auth: b64(`robot:${password}`) } } }));

const policy = (withFrom: boolean): string => `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors: [{source: docker.io, mirror: registry.mycorp.com/dockerhub}]
  registrySources: {allowedRegistries: [registry.mycorp.com]}
  pullSecrets:
    - registry: registry.mycorp.com
      secretName: mycorp-pull
${withFrom ? `      from: {namespace: ${GATE_NS}, name: mycorp-pull-source}\n` : ''}`;

function sourceSecret(password: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'mycorp-pull-source', namespace: GATE_NS },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': dockerConfig(password) },
  });
}

describeE2E('pull secrets: the mirror credentials kept in every covered namespace', () => {
  let kubectl: Kubectl;
  let gate: Gate;
  let kubeconfig: string;
  let dir: string;
  const others: ManagedProcess[] = [];

  /** The copy's docker config in `ns`, or undefined while there is none. */
  const copyIn = async (ns: string): Promise<string | undefined> => {
    const run = await kubectl(['get', 'secret', 'mycorp-pull', '-n', ns, '-o', 'json']);
    if (run.code !== 0) return undefined;
    return (JSON.parse(run.stdout) as { data: Record<string, string> }).data['.dockerconfigjson'];
  };
  const copiedNamespaces = async (): Promise<string[]> =>
    (
      await ok(
        kubectl([
          'get',
          'secret',
          '-A',
          '-l',
          COPY_SELECTOR,
          '-o',
          'jsonpath={.items[*].metadata.namespace}',
        ]),
      )
    )
      .split(' ')
      .filter((s) => s !== '')
      .sort();
  const leaseHolder = async (): Promise<string> =>
    ok(
      kubectl([
        'get',
        'lease',
        'registry-gate-pull-secrets',
        '-n',
        GATE_NS,
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ]),
    );
  const gateArgs = (identity: string): string[] => [
    `--kubeconfig=${kubeconfig}`,
    `--namespace=${GATE_NS}`,
    `--identity=${identity}`,
    `--lease-duration=${LEASE_SECONDS}`,
  ];
  /** Log lines of a copy write into `ns`. */
  const wrote = (lines: Record<string, unknown>[], ns: string): boolean =>
    lines.some(
      (l) => l.namespace === ns && typeof l.msg === 'string' && l.msg.startsWith('pull secret copy'),
    );
  const processLogs = async (p: ManagedProcess): Promise<Record<string, unknown>[]> =>
    (await readFile(p.logFile, 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const startAnother = async (identity: string): Promise<ManagedProcess> => {
    const certDir = join(dir, `certs-${identity}`);
    const p = ManagedProcess.start(
      identity,
      process.execPath,
      [
        join(repoRoot, 'dist/main.js'),
        'serve',
        `--policy=${gate.policyFile}`,
        '--host=127.0.0.1',
        '--port=0',
        '--reload-interval=200',
        `--cert-dir=${certDir}`,
        ...gateArgs(identity),
      ],
      join(dir, `${identity}.log`),
    );
    others.push(p);
    await waitFor(
      `${identity} watching`,
      async () =>
        (await processLogs(p)).some((l) => l.msg === 'pull-secret propagation started') ? true : undefined,
      20_000,
    );
    return p;
  };

  beforeAll(async () => {
    kubectl = cluster().kubectl;
    await mkdir(join(repoRoot, '.e2e'), { recursive: true });
    dir = await mkdtemp(join(repoRoot, '.e2e', 'pull-secrets-'));
    // The gate runs as its own ServiceAccount with the overlay's RBAC, so the test proves the role is enough.
    await ok(
      kubectl([
        'apply',
        '-f',
        join(repoRoot, 'manifests/base/namespace.yaml'),
        '-f',
        join(repoRoot, 'manifests/base/serviceaccount.yaml'),
        '-f',
        join(repoRoot, 'manifests/overlays/pull-secrets/component/rbac.yaml'),
      ]),
    );
    const token = (
      await ok(kubectl(['create', 'token', 'registry-gate', '-n', GATE_NS, '--duration=1h']))
    ).trim();
    const admin = JSON.parse(await ok(kubectl(['config', 'view', '--raw', '-o', 'json']))) as {
      clusters: { cluster: Record<string, string> }[];
    };
    kubeconfig = join(dir, 'gate.kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: admin.clusters[0]!.cluster }],
        users: [{ name: 'registry-gate', user: { token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'registry-gate' } }],
        'current-context': 'e2e',
      }),
      { mode: 0o600 },
    );
    await ok(kubectl(['apply', '-f', '-'], { input: sourceSecret('one') }));
    gate = await startGate(kubectl, { policyYaml: policy(true), args: gateArgs('gate-a') });
    await waitFor(
      'gate-a to hold the lease',
      async () => ((await leaseHolder()) === 'gate-a' ? true : undefined),
      15_000,
    );
  });
  afterAll(async () => {
    for (const p of others) await p.stop();
    await gate?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await kubectl([
      'delete',
      'namespace',
      'ps-new',
      'ps-opted-out',
      'ps-late',
      'ps-b',
      'ps-c',
      '--ignore-not-found',
      '--wait=false',
    ]);
  });

  it('creates the copy in a new namespace within 2 s, with the managed-by and source labels', async () => {
    const started = Date.now();
    await ok(kubectl(['create', 'namespace', 'ps-new']));
    await waitFor('the copy in ps-new', () => copyIn('ps-new'), 2_000, 50);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2_000);
    const copy = JSON.parse(
      await ok(
        kubectl(['get', 'secret', 'mycorp-pull', '-n', 'ps-new', '-o', 'json', '--show-managed-fields']),
      ),
    ) as {
      type: string;
      data: Record<string, string>;
      metadata: {
        labels: Record<string, string>;
        annotations: Record<string, string>;
        managedFields: { manager: string; operation: string }[];
      };
    };
    expect(copy.type).toBe('kubernetes.io/dockerconfigjson');
    expect(copy.data).toEqual({ '.dockerconfigjson': dockerConfig('one') });
    expect(copy.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'registry-gate',
      'registry-gate.io/copy-of': `${GATE_NS}.mycorp-pull-source`,
    });
    expect(copy.metadata.annotations['registry-gate.io/source']).toBe(`${GATE_NS}/mycorp-pull-source`);
    expect(copy.metadata.managedFields.map((f) => `${f.manager}/${f.operation}`)).toEqual([
      'registry-gate/Apply',
    ]);
  });

  it('gives none to a namespace excluded by label, to the gate namespace or to kube-system', async () => {
    await ok(kubectl(['create', 'namespace', 'ps-b']));
    await ok(kubectl(['create', 'namespace', 'ps-opted-out']));
    await ok(kubectl(['label', 'namespace', 'ps-opted-out', 'registry-gate.io/pull-secrets=disabled']));
    await waitFor('the copy in ps-b', () => copyIn('ps-b'), 5_000, 100);
    await new Promise((r) => setTimeout(r, 1_000));
    const namespaces = await copiedNamespaces();
    expect(namespaces).toContain('ps-b');
    expect(namespaces).not.toContain('ps-opted-out');
    expect(namespaces).not.toContain(GATE_NS);
    expect(namespaces).not.toContain('kube-system');
  });

  it('deletes the copy of a namespace that opts out later', async () => {
    await ok(kubectl(['label', 'namespace', 'ps-b', 'registry-gate.io/pull-secrets=disabled']));
    await waitFor(
      'ps-b copy gone',
      async () => ((await copyIn('ps-b')) === undefined ? true : undefined),
      5_000,
      100,
    );
    await ok(kubectl(['label', 'namespace', 'ps-b', 'registry-gate.io/pull-secrets-']));
    await waitFor('ps-b copy back', () => copyIn('ps-b'), 5_000, 100);
  });

  it('follows a rotation of the source in every copy', async () => {
    await ok(kubectl(['apply', '-f', '-'], { input: sourceSecret('two') }));
    await waitFor(
      'every copy rotated',
      async () => {
        const namespaces = await copiedNamespaces();
        const datas = await Promise.all(namespaces.map(copyIn));
        return namespaces.length >= 2 && datas.every((d) => d === dockerConfig('two'))
          ? namespaces
          : undefined;
      },
      5_000,
      100,
    );
  });

  it('repairs a copy edited by hand', async () => {
    await ok(
      kubectl([
        'patch',
        'secret',
        'mycorp-pull',
        '-n',
        'ps-new',
        '--type=merge',
        '-p',
        JSON.stringify({ data: { '.dockerconfigjson': dockerConfig('edited') } }),
      ]),
    );
    await waitFor(
      'ps-new repaired',
      async () => ((await copyIn('ps-new')) === dockerConfig('two') ? true : undefined),
      5_000,
      100,
    );
  });

  it('reports a missing source (log, metric, /readyz) and warns Pods whose copy is missing', async () => {
    await ok(kubectl(['delete', 'secret', 'mycorp-pull-source', '-n', GATE_NS]));
    await ok(kubectl(['create', 'namespace', 'ps-late']));
    await waitFor(
      '/readyz detail',
      async () => ((await gate.get('/readyz')).includes('SOURCE_NOT_FOUND') ? true : undefined),
      5_000,
    );
    // Existing copies are kept: an accidental delete of the source must not break pulls everywhere.
    expect(await copyIn('ps-new')).toBe(dockerConfig('two'));
    const metrics = await gate.get('/metrics');
    expect(metrics).toMatch(
      new RegExp(
        `registry_gate_pull_secret_source_problems\\{source="${GATE_NS}/mycorp-pull-source",code="SOURCE_NOT_FOUND"\\} 1`,
      ),
    );
    expect((await gate.logs()).some((l) => l.msg === 'pull-secret source cannot be copied')).toBe(true);
    await waitFor(
      'ServiceAccount ps-late/default',
      async () => ((await kubectl(['get', 'sa', 'default', '-n', 'ps-late'])).code === 0 ? true : undefined),
      30_000,
    );
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'ps-late' },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
    });
    const run = await kubectl(['create', '--dry-run=server', '-f', '-'], { input: pod });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      'Warning: registry-gate: pull secret "mycorp-pull" is not in namespace "ps-late" yet (registry-gate copies it there)',
    );

    await ok(kubectl(['apply', '-f', '-'], { input: sourceSecret('three') }));
    await waitFor(
      'ps-late gets its copy',
      async () => ((await copyIn('ps-late')) === dockerConfig('three') ? true : undefined),
      5_000,
      100,
    );
    const again = await kubectl(['create', '--dry-run=server', '-f', '-'], { input: pod });
    expect(again.stderr).not.toContain('is not in namespace');
  });

  it('never logs a credential', async () => {
    const text = JSON.stringify(await gate.logs());
    for (const password of ['one', 'two', 'three', 'edited']) {
      expect(text).not.toContain(dockerConfig(password));
      expect(text).not.toContain(b64(`robot:${password}`));
    }
  });

  it('with two servers only the lease holder writes; when it stops the other takes over within the lease time', async () => {
    const b = await startAnother('gate-b');
    expect(await leaseHolder()).toBe('gate-a');
    await ok(kubectl(['create', 'namespace', 'ps-c']));
    await waitFor('the copy in ps-c', () => copyIn('ps-c'), 5_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    expect(wrote(await gate.logs(), 'ps-c')).toBe(true);
    expect(wrote(await processLogs(b), 'ps-c')).toBe(false);

    // A clean stop releases the Lease.
    const stopped = Date.now();
    await gate.stopServer();
    await waitFor(
      'gate-b to hold the lease',
      async () => ((await leaseHolder()) === 'gate-b' ? true : undefined),
      LEASE_SECONDS * 1000,
      100,
    );
    expect(Date.now() - stopped).toBeLessThan(LEASE_SECONDS * 1000);
    await ok(kubectl(['delete', 'secret', 'mycorp-pull', '-n', 'ps-c']));
    await waitFor('gate-b re-creates the copy in ps-c', () => copyIn('ps-c'), 5_000, 100);
    await waitFor(
      'gate-b to log the write',
      async () => (wrote(await processLogs(b), 'ps-c') ? true : undefined),
      2_000,
    );

    // A crash releases nothing: the next one waits out the lease, and no longer.
    const c = await startAnother('gate-c');
    b.child.kill('SIGKILL');
    const killed = Date.now();
    await waitFor(
      'gate-c to hold the lease',
      async () => ((await leaseHolder()) === 'gate-c' ? true : undefined),
      3 * LEASE_SECONDS * 1000,
      100,
    );
    expect(Date.now() - killed).toBeLessThan(LEASE_SECONDS * 1000 + 2_000);
    await ok(kubectl(['delete', 'secret', 'mycorp-pull', '-n', 'ps-c']));
    await waitFor('gate-c re-creates the copy in ps-c', () => copyIn('ps-c'), 5_000, 100);
    await waitFor(
      'gate-c to log the write',
      async () => (wrote(await processLogs(c), 'ps-c') ? true : undefined),
      2_000,
    );
  });

  it('deletes every copy when the entry loses its from', async () => {
    const [c] = others.slice(-1);
    await writeFile(gate.policyFile, policy(false));
    await waitFor(
      'every copy deleted',
      async () => ((await copiedNamespaces()).length === 0 ? true : undefined),
      10_000,
      200,
    );
    expect((await processLogs(c!)).some((l) => l.msg === 'pull secret copy deleted')).toBe(true);
    // The source itself is never touched.
    expect((await kubectl(['get', 'secret', 'mycorp-pull-source', '-n', GATE_NS])).code).toBe(0);
  });
});
