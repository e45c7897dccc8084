// `registry-gate audit --cluster` against a real kube-apiserver and kube-controller-manager: Pods made by real
// controllers (ReplicaSets of Deployments, a Job of a CronJob, a StatefulSet), bare Pods, and more than 500 Pods in
// one namespace so that list pagination really happens; run with a ServiceAccount token bound only to
// manifests/audit, and as the kubectl plugin.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditFinding } from '../../src/audit/index.js';
import {
  cluster,
  createNamespace,
  describeE2E,
  expectDocumentedTranscript,
  ok,
  repoRoot,
  transcript,
  waitFor,
  type Kubectl,
} from './harness/index.js';

interface Report {
  summary: Record<string, number>;
  findings: AuditFinding[];
  problems: { source: string | null; message: string }[];
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const bin = join(repoRoot, 'dist', 'main.js');
const FLEET_REPLICAS = 300;
const SOLO_PODS = 260;
/** Where the kubectl dump behind test/fixtures/audit/kubectl-get-shop.json is written (git-ignored). */
const transcriptDir = join(repoRoot, '.e2e', 'audit-transcripts');

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

const audit = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> =>
  run(process.execPath, [bin, 'audit', ...args], env);

function pod(namespace: string, name: string, image: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { containers: [{ name: 'main', image }] },
  };
}

function podTemplate(app: string, image: string): object {
  return { metadata: { labels: { app } }, spec: { containers: [{ name: app, image }] } };
}

function deployment(namespace: string, name: string, replicas: number, image: string): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name, image) },
  };
}

const list = (items: object[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

async function countPods(kubectl: Kubectl, namespace: string, selector: string): Promise<number> {
  const out = await ok(kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'name']));
  return out.split('\n').filter((l) => l !== '').length;
}

/** A kubeconfig for the test cluster that authenticates with a bearer token only. */
async function tokenKubeconfigFile(path: string, token: string): Promise<string> {
  const c = cluster();
  const ca = Buffer.from(c.caCert).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: c.server, 'certificate-authority-data': ca } }],
    users: [{ name: 'token', user: { token } }],
    contexts: [{ name: 'token', context: { cluster: 'e2e', user: 'token' } }],
    'current-context': 'token',
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

const inNamespace = (report: Report, namespace: string): AuditFinding[] =>
  report.findings.filter((f) => f.namespace === namespace);

const pick = (f: AuditFinding) => ({
  kind: f.kind,
  name: f.name,
  image: f.image,
  judged: f.judged,
  decision: f.decision,
  rewrite: f.rewrite,
  final: f.final,
  code: f.code,
  fix: f.fix,
  carriers: f.carriers,
});

describeE2E('registry-gate audit --cluster on a real control plane', () => {
  let kubectl: Kubectl;
  let assets: string;
  let adminKubeconfig: string;
  let tokenKubeconfig: string;
  let dir: string;

  beforeAll(async () => {
    const c = cluster();
    kubectl = c.kubectl;
    assets = c.assets;
    adminKubeconfig = c.kubeconfig;
    dir = await mkdtemp(join(c.dir, 'audit-'));
    await mkdir(transcriptDir, { recursive: true });

    // The cluster before enforcing: the policy ConfigMap as manifests/base installs it, no webhooks registered.
    const apply = (yaml: string): Promise<string> => ok(kubectl(['apply', '-f', '-'], { input: yaml }));
    await apply(
      await ok(kubectl(['create', 'namespace', 'registry-gate-system', '--dry-run=client', '-o', 'yaml'])),
    );
    await apply(
      await ok(
        kubectl([
          'create',
          'configmap',
          'registry-gate-policy',
          '-n',
          'registry-gate-system',
          `--from-file=policy.yaml=${join(repoRoot, 'manifests/base/policy.yaml')}`,
          '--dry-run=client',
          '-o',
          'yaml',
        ]),
      ),
    );
    await ok(kubectl(['apply', '-k', join(repoRoot, 'manifests/audit')]));

    await createNamespace(kubectl, 'audit-shop');
    await createNamespace(kubectl, 'audit-fleet');
    const cronJob = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'report', namespace: 'audit-shop' },
      spec: {
        schedule: '0 3 * * *',
        suspend: true,
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [{ name: 'report', image: 'registry.internal/tools/report:1' }],
              },
            },
          },
        },
      },
    };
    const statefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'audit-shop' },
      spec: {
        replicas: 1,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate('db', 'quay.io/acme/db:16'),
      },
    };
    await ok(
      kubectl(['create', '-f', '-'], {
        input: list([
          deployment('audit-shop', 'web', 2, 'nginx:1.27'),
          cronJob,
          statefulSet,
          pod('audit-shop', 'debug', 'ghcr.io/acme/debug:1'),
          pod('audit-shop', 'toolbox', 'registry.internal/docker.io/library/busybox:1.36'),
          deployment(
            'audit-fleet',
            'fleet',
            FLEET_REPLICAS,
            'registry.internal/docker.io/library/busybox:1.36',
          ),
        ]),
      }),
    );
    // A Job made from the CronJob, as the CronJob controller would (kubectl sets the controller reference).
    await ok(kubectl(['create', 'job', 'report-manual', '--from=cronjob/report', '-n', 'audit-shop']));
    // Bare Pods, created in one kubectl call: with the fleet, 560 Pods in audit-fleet.
    const solos = Array.from({ length: SOLO_PODS }, (_, i) =>
      pod('audit-fleet', `solo-${String(i).padStart(3, '0')}`, 'docker.io/library/redis:7'),
    );
    await ok(kubectl(['create', '-f', '-'], { input: list(solos), timeoutMs: 180_000 }));

    await waitFor(
      'the controllers to create their Pods',
      async () =>
        (await countPods(kubectl, 'audit-fleet', 'app=fleet')) === FLEET_REPLICAS &&
        (await countPods(kubectl, 'audit-shop', 'app=web')) === 2 &&
        (await countPods(kubectl, 'audit-shop', 'app=db')) === 1 &&
        (await countPods(kubectl, 'audit-shop', 'job-name=report-manual')) === 1
          ? true
          : undefined,
      180_000,
      1000,
    );

    // A ServiceAccount token bound only through manifests/audit, in a kubeconfig of its own.
    const token = (
      await ok(
        kubectl(['create', 'token', 'registry-gate-audit', '-n', 'registry-gate-system', '--duration=1h']),
      )
    ).trim();
    tokenKubeconfig = await tokenKubeconfigFile(join(dir, 'audit.kubeconfig'), token);
  }, 420_000);

  afterAll(async () => {
    if (kubectl === undefined) return;
    await kubectl(['delete', 'namespace', 'audit-shop', 'audit-fleet', '--wait=false', '--ignore-not-found']);
    await kubectl(['delete', '-k', join(repoRoot, 'manifests/audit'), '--ignore-not-found']);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  let adminReport: Report;

  it('reports controller-made Pods once, under their top owner, judging Pods as they run and templates as they will be', async () => {
    const r = await audit(['--cluster', '--policy-from-cluster', '-o', 'json'], {
      KUBECONFIG: adminKubeconfig,
    });
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(r.code).toBe(1);
    adminReport = JSON.parse(r.stdout) as Report;
    expect(adminReport.problems).toEqual([]);

    const shop = inNamespace(adminReport, 'audit-shop').map(pick);
    expect(shop).toEqual([
      {
        kind: 'CronJob',
        name: 'report',
        image: 'registry.internal/tools/report:1',
        judged: 'as-written',
        decision: 'allow',
        rewrite: false,
        final: 'registry.internal/tools/report:1',
        code: null,
        fix: null,
        carriers: { Pod: 1 },
      },
      {
        kind: 'CronJob',
        name: 'report',
        image: 'registry.internal/tools/report:1',
        judged: 'final',
        decision: 'allow',
        rewrite: false,
        final: 'registry.internal/tools/report:1',
        code: null,
        fix: null,
        carriers: { CronJob: 1, Job: 1 },
      },
      {
        kind: 'Deployment',
        name: 'web',
        image: 'nginx:1.27',
        judged: 'as-written',
        decision: 'deny',
        rewrite: false,
        final: 'docker.io/library/nginx:1.27',
        code: 'REGISTRY_NOT_ALLOWED',
        fix: 'registry.internal/docker.io/library/nginx:1.27',
        carriers: { Pod: 2 },
      },
      {
        kind: 'Deployment',
        name: 'web',
        image: 'nginx:1.27',
        judged: 'final',
        decision: 'allow',
        rewrite: true,
        final: 'registry.internal/docker.io/library/nginx:1.27',
        code: null,
        fix: null,
        carriers: { Deployment: 1, ReplicaSet: 1 },
      },
      {
        kind: 'Pod',
        name: 'debug',
        image: 'ghcr.io/acme/debug:1',
        judged: 'as-written',
        decision: 'deny',
        rewrite: false,
        final: 'ghcr.io/acme/debug:1',
        code: 'REGISTRY_NOT_ALLOWED',
        fix: 'registry.internal/ghcr.io/acme/debug:1',
        carriers: { Pod: 1 },
      },
      {
        kind: 'Pod',
        name: 'toolbox',
        image: 'registry.internal/docker.io/library/busybox:1.36',
        judged: 'as-written',
        decision: 'allow',
        rewrite: false,
        final: 'registry.internal/docker.io/library/busybox:1.36',
        code: null,
        fix: null,
        carriers: { Pod: 1 },
      },
      {
        kind: 'StatefulSet',
        name: 'db',
        image: 'quay.io/acme/db:16',
        judged: 'as-written',
        decision: 'deny',
        rewrite: false,
        final: 'quay.io/acme/db:16',
        code: 'REGISTRY_NOT_ALLOWED',
        fix: 'registry.internal/quay.io/acme/db:16',
        carriers: { Pod: 1 },
      },
      {
        kind: 'StatefulSet',
        name: 'db',
        image: 'quay.io/acme/db:16',
        judged: 'final',
        decision: 'allow',
        rewrite: true,
        final: 'registry.internal/quay.io/acme/db:16',
        code: null,
        fix: null,
        carriers: { StatefulSet: 1 },
      },
    ]);

    // Every one of the 560 Pods of audit-fleet was listed (more than one page of 500) and grouped.
    const fleet = inNamespace(adminReport, 'audit-fleet');
    const fleetPods = fleet.filter((f) => f.kind === 'Deployment' && f.judged === 'as-written');
    expect(fleetPods.map((f) => f.carriers)).toEqual([{ Pod: FLEET_REPLICAS }]);
    const solos = fleet.filter((f) => f.kind === 'Pod');
    expect(solos).toHaveLength(SOLO_PODS);
    expect(new Set(solos.map((f) => f.name)).size).toBe(SOLO_PODS);
    expect(solos.every((f) => f.decision === 'deny' && f.code === 'REGISTRY_NOT_ALLOWED')).toBe(true);
    expect(fleet).toHaveLength(SOLO_PODS + 2);
    // The `kubectl get -o json` dump of test/fixtures/audit/kubectl-get-shop.json was captured here.
    await writeFile(
      join(transcriptDir, 'kubectl-get-shop.json'),
      await ok(
        kubectl([
          'get',
          'pods,deployments,replicasets,statefulsets,jobs,cronjobs',
          '-n',
          'audit-shop',
          '-o',
          'json',
        ]),
      ),
    );
  });

  it('needs nothing but the audit ClusterRole and the policy Role: a token bound only to them sees the same', async () => {
    const r = await audit([
      '--cluster',
      '--policy-from-cluster',
      '-o',
      'json',
      `--kubeconfig=${tokenKubeconfig}`,
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    for (const ns of ['audit-shop', 'audit-fleet'])
      expect(inNamespace(report, ns)).toEqual(inNamespace(adminReport, ns));

    // ...and that token can do nothing else.
    const token = ['--kubeconfig', tokenKubeconfig];
    const kubectlAs = (args: string[]) => run(join(assets, 'kubectl'), [...token, ...args]);
    expect((await kubectlAs(['get', 'secrets', '-n', 'audit-shop'])).code).not.toBe(0);
    expect((await kubectlAs(['get', 'configmaps', '-n', 'registry-gate-system'])).code).not.toBe(0);
    expect((await kubectlAs(['auth', 'can-i', 'delete', 'pods', '-A'])).stdout.trim()).toBe('no');
    expect((await kubectlAs(['auth', 'can-i', 'list', 'cronjobs.batch', '-A'])).stdout.trim()).toBe('yes');
  });

  it('pages through 560 Pods of one namespace, saying so on stderr when it is not a terminal', async () => {
    const r = await audit([
      '--cluster',
      '--policy-from-cluster',
      '--namespace',
      'audit-fleet',
      '--chunk-size',
      '100',
      '--all',
      `--kubeconfig=${tokenKubeconfig}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`registry-gate audit: listed ${FLEET_REPLICAS + SOLO_PODS} pods (6 pages)\n`);
    expect(r.stderr).toContain('registry-gate audit: listed 1 replicasets (1 page)\n');
    expect(r.stdout).toContain(`would-deny ${SOLO_PODS},`);
    // 260 alike bare Pods are one row of the text table (JSON keeps all of them, as the first test shows).
    expect(r.stdout).toMatch(
      /audit-fleet +260 Pods: solo-000 … solo-259 +main +docker.io\/library\/redis:7 +REGISTRY_NOT_ALLOWED/,
    );
    // The Deployment's template and its 300 running Pods: two rows, told apart by where the image was seen.
    expect(r.stdout).toMatch(
      /Deployment\/fleet +fleet +300 Pods +registry.internal\/docker.io\/library\/busybox:1.36 +registry.internal\n +fleet +Deployment\+ReplicaSet +registry.internal\/docker.io\/library\/busybox:1.36 +registry.internal\n/,
    );
    await expectDocumentedTranscript(
      'docs/auditing.md',
      'audit-fleet',
      transcript(
        'registry-gate audit --cluster --policy-from-cluster --namespace audit-fleet --chunk-size 100 --all',
        r,
      ),
    );
  });

  it('runs as the kubectl plugin: kubectl registry-gate audit', async () => {
    const pluginDir = join(dir, 'bin');
    await mkdir(pluginDir, { recursive: true });
    // What `npm install -g registry-gate` puts on PATH: the bin, executable.
    await chmod(bin, 0o755);
    await symlink(bin, join(pluginDir, 'kubectl-registry_gate'));
    const env = {
      PATH: `${pluginDir}:${process.env.PATH ?? ''}`,
      KUBECONFIG: tokenKubeconfig,
    };
    const kubectlBin = join(assets, 'kubectl');
    const plugins = await run(kubectlBin, ['plugin', 'list', '--name-only'], env);
    expect(plugins.stdout).toContain('kubectl-registry_gate');

    const r = await run(
      kubectlBin,
      ['registry-gate', 'audit', '--cluster', '--policy-from-cluster', '--namespace', 'audit-shop'],
      env,
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^WOULD DENY \(3\)\n/);
    expect(r.stdout).toContain(
      'Summary: objects 11, workloads 5, images 11, would-deny 3, would-rewrite 2, exempt 0, allowed 3\n',
    );
    await expectDocumentedTranscript(
      'docs/auditing.md',
      'audit-shop',
      transcript('kubectl registry-gate audit --cluster --policy-from-cluster --namespace audit-shop', r),
    );
  });

  it('says what is forbidden, with exit 2 and no stack trace, for an identity without the audit role', async () => {
    await ok(kubectl(['create', 'serviceaccount', 'nobody', '-n', 'audit-shop']));
    const token = (await ok(kubectl(['create', 'token', 'nobody', '-n', 'audit-shop']))).trim();
    const noRole = await tokenKubeconfigFile(join(dir, 'nobody.kubeconfig'), token);
    const denied = await audit(['--cluster', '--namespace', 'audit-shop', `--kubeconfig=${noRole}`]);
    expect(denied.code).toBe(2);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toMatch(
      /^registry-gate: GET \/api\/v1\/namespaces\/audit-shop\/pods\?limit=500: 403 pods is forbidden: User "system:serviceaccount:audit-shop:nobody" cannot list resource "pods"/,
    );
    expect(denied.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
