// `registry-gate audit` over fixture manifests as users run it: the built binary, stdout, stderr and exit codes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'dist', 'main.js');
const policy = 'examples/mycorp-policy.yaml';
const fixtures = 'test/fixtures/audit';

beforeAll(() => {
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  expect(build.status, build.stdout + build.stderr).toBe(0);
}, 120_000);

function audit(args: string[], stdin?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'audit', ...args], {
    input: stdin ?? '',
    encoding: 'utf8',
    cwd: root,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Report {
  apiVersion: string;
  kind: string;
  summary: Record<string, number>;
  findings: {
    namespace: string | null;
    kind: string;
    name: string;
    list: string;
    container: string;
    image: string;
    judged: string;
    decision: string;
    rewrite: boolean;
    final: string | null;
    code: string | null;
    fix: string | null;
    source: string | null;
    carriers: Record<string, number>;
  }[];
  problems: { source: string; message: string }[];
}

const json = (args: string[], stdin?: string): { code: number | null; report: Report; stderr: string } => {
  const r = audit(['--policy', policy, '-o', 'json', ...args], stdin);
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
};

describe('registry-gate audit over manifests', () => {
  it('finds every pod-bearing kind of a multi-document file and a List, recursively in a directory', () => {
    const { code, report, stderr } = json([`${fixtures}/manifests`]);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const rows = report.findings.map((f) => [
      f.namespace,
      `${f.kind}/${f.name}`,
      `${f.list}/${f.container}`,
      f.decision,
      f.rewrite,
      f.code,
    ]);
    expect(rows).toEqual([
      ['data', 'CronJob/report', 'containers/report', 'deny', false, 'REGISTRY_NOT_ALLOWED'],
      ['data', 'Job/migrate', 'containers/migrate', 'allow', false, null],
      ['data', 'StatefulSet/db', 'containers/postgres', 'allow', false, null],
      ['registry-mirror', 'DaemonSet/agent', 'containers/agent', 'exempt', false, null],
      ['shop', 'Deployment/api', 'containers/api', 'allow', true, null],
      ['shop', 'Deployment/web', 'containers/nginx', 'allow', true, null],
      ['shop', 'Deployment/web', 'containers/sidecar', 'allow', true, null],
      ['shop', 'Pod/bare', 'initContainers/setup', 'allow', true, null],
      ['shop', 'Pod/bare', 'containers/app', 'deny', false, 'REGISTRY_NOT_ALLOWED'],
      ['shop', 'Pod/bare', 'volumes/models', 'allow', true, null],
      ['shop', 'PodTemplate/tpl', 'containers/tool', 'allow', false, null],
      ['shop', 'ReplicaSet/rs', 'containers/bad', 'deny', false, 'INVALID_IMAGE_REF'],
      ['shop', 'ReplicationController/legacy', 'containers/old', 'allow', true, null],
    ]);
    expect(report.summary).toEqual({
      objects: 10,
      workloads: 10,
      images: 13,
      findings: 13,
      wouldDeny: 3,
      wouldRewrite: 6,
      exempt: 1,
      allowed: 3,
      ignored: 2,
      problems: 0,
    });
    const api = report.findings.find((f) => f.name === 'api');
    expect(api?.source).toBe('test/fixtures/audit/manifests/nested/list.yaml:2 items[0]');
    expect(report.findings.find((f) => f.name === 'tpl')?.source).toBe(
      'test/fixtures/audit/manifests/all-kinds.yaml:14',
    );
  });

  it('reads a kubectl get -o json dump: running Pods as they are, each under its top owner', () => {
    const { code, report } = json([`${fixtures}/kubectl-get-shop.json`]);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [`${f.kind}/${f.name}`, f.judged, f.decision, f.carriers])).toEqual([
      ['CronJob/report', 'as-written', 'deny', { Pod: 1 }],
      ['CronJob/report', 'final', 'deny', { Job: 1, CronJob: 1 }],
      ['Deployment/web', 'as-written', 'deny', { Pod: 2 }],
      ['Deployment/web', 'final', 'allow', { Deployment: 1, ReplicaSet: 1 }],
      ['Pod/debug', 'as-written', 'deny', { Pod: 1 }],
      ['Pod/toolbox', 'as-written', 'deny', { Pod: 1 }],
      ['StatefulSet/db', 'as-written', 'deny', { Pod: 1 }],
      ['StatefulSet/db', 'final', 'allow', { StatefulSet: 1 }],
    ]);
    expect(report.findings.find((f) => f.name === 'web' && f.judged === 'as-written')?.fix).toBe(
      'registry.mycorp.com/dockerhub/library/nginx:1.27',
    );
  });

  it('reads stdin with -, and --namespace places objects that name none', () => {
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: ghcr.io/x/y:1}]}\n';
    const plain = json(['-'], pod);
    expect(plain.code).toBe(1);
    expect(plain.report.findings[0]?.source).toBe('(stdin):1');
    const exempt = json(['--namespace', 'registry-mirror', '-'], pod);
    expect(exempt.code).toBe(0);
    expect(exempt.report.findings[0]).toMatchObject({ namespace: 'registry-mirror', decision: 'exempt' });
  });

  it('prints a text report grouped by decision with a summary, and exit 0 when nothing would be denied', () => {
    const r = audit(['--policy', policy, `${fixtures}/manifests/nested`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'WOULD REWRITE (1)',
        'NAMESPACE  WORKLOAD        CONTAINER  IMAGE               FINAL IMAGE',
        'shop       Deployment/api  api        quay.io/acme/api:3  registry.mycorp.com/quay/acme/api:3',
        '',
        'Summary: objects 1, workloads 1, images 1, would-deny 0, would-rewrite 1, exempt 0, allowed 0, ignored 1 (no pod spec)',
        '',
      ].join('\n'),
    );
  });

  it('names the file and line of unparseable YAML, audits the rest, and exits 2 without a stack trace', () => {
    const r = audit([
      '--policy',
      policy,
      `${fixtures}/broken.yaml`,
      `${fixtures}/manifests/nested/list.yaml`,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^registry-gate audit: test\/fixtures\/audit\/broken\.yaml:9:\d+: .+\n$/);
    expect(r.stdout).toContain('Deployment/api');
  });

  it.each([
    ['no inputs', [], /needs files, directories or - \(stdin\), or --cluster/],
    ['inputs and --cluster', ['--cluster', 'x.yaml'], /either inputs or --cluster/],
    ['a missing file', ['no-such.yaml'], /no-such\.yaml: cannot read: no such file or directory/],
    ['an unknown output', ['-o', 'xml', 'x.yaml'], /text or json/],
    [
      'an unreadable kubeconfig',
      ['--cluster', '--kubeconfig', 'no-such-kubeconfig'],
      /cannot load no-such-kubeconfig/,
    ],
  ])('exits 2 with a clear message for %s', (_name, args, message) => {
    const r = audit(['--policy', policy, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
