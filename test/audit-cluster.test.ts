// `registry-gate audit --cluster` against a stand-in API server on loopback: plain HTTP with the GET paths the
// audit reads, answered from fixtures, and the project's own ValidatingWebhookConfiguration
// (manifests/base/webhooks.yaml), so the namespaces it reports apart are exactly those the webhooks never see.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../src/cli/program.js';

const root = new URL('..', import.meta.url).pathname;
const validating = parseAllDocuments(readFileSync(join(root, 'manifests/base/webhooks.yaml'), 'utf8'))
  .map((d) => d.toJS() as { kind: string })
  .find((d) => d.kind === 'ValidatingWebhookConfiguration');

const pod = (namespace: string, name: string, image: string) => ({
  metadata: { namespace, name, uid: `${namespace}-${name}` },
  spec: { containers: [{ name: 'main', image }] },
});
const namespace = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});

/** What the stand-in API server answers, by path; anything else is an empty list. */
function routes(registered: boolean): Map<string, unknown> {
  return new Map<string, unknown>([
    [
      '/api/v1/pods',
      {
        items: [
          pod('kube-system', 'kube-proxy', 'registry.k8s.io/kube-proxy:v1.37.2'),
          pod('registry-gate-system', 'gate', 'ghcr.io/acme/registry-gate:1'),
          pod('shop', 'web', 'registry.mycorp.com/dockerhub/library/nginx:1.27'),
          pod('payments', 'api', 'registry.mycorp.com/quay/acme/api:2'),
        ],
      },
    ],
    [
      '/api/v1/namespaces',
      {
        items: [
          namespace('kube-system'),
          namespace('registry-gate-system'),
          namespace('shop'),
          namespace('payments', { 'registry-gate.io/critical': 'true' }),
        ],
      },
    ],
    ...(registered
      ? [
          [
            '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/registry-gate',
            validating,
          ] as const,
        ]
      : []),
  ]);
}

let server: Server;
let dir: string;
let kubeconfig: string;
let registered = true;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const known = routes(registered).get(path);
    const missing = path.includes('/validatingwebhookconfigurations/');
    res.writeHead(missing && known === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(known ?? (missing ? { kind: 'Status', message: 'not found' } : { items: [] })));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  dir = await mkdtemp(join(tmpdir(), 'rg-audit-cluster-'));
  kubeconfig = join(dir, 'kubeconfig');
  const { port } = server.address() as AddressInfo;
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'fake', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u' } }],
      'current-context': 'fake',
    }),
  );
});

afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

async function audit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    ['audit', '--cluster', '--kubeconfig', kubeconfig, '--policy', 'examples/mycorp-policy.yaml', ...args],
    {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      stdin: () => Promise.resolve(''),
    },
  );
  return { code, stdout, stderr };
}

describe('audit --cluster reports apart what the webhooks never judge', () => {
  it('kube-system and the gate namespace are not intercepted: reported apart, and they do not fail the audit', async () => {
    registered = true;
    const r = await audit(['-o', 'json']);
    const report = JSON.parse(r.stdout) as {
      summary: Record<string, number>;
      interception: { by: string; notIntercepted: number };
      findings: { namespace: string; decision: string; intercepted: boolean }[];
    };
    expect(report.findings.map((f) => [f.namespace, f.decision, f.intercepted])).toEqual([
      ['kube-system', 'deny', false],
      ['payments', 'allow', true],
      ['registry-gate-system', 'deny', false],
      ['shop', 'allow', true],
    ]);
    expect(report.interception).toEqual({
      by: 'ValidatingWebhookConfiguration/registry-gate',
      notIntercepted: 2,
    });
    expect(report.summary).toMatchObject({ wouldDeny: 0, allowed: 2 });
    expect(r.code).toBe(0);
  });

  it('says so in the text report, and --fail-on-not-intercepted makes their denials fail the run', async () => {
    registered = true;
    const text = await audit([]);
    expect(text.stdout).toMatch(/^NOT INTERCEPTED \(2\)$/m);
    expect(text.stdout).toMatch(
      /^kube-system +Pod\/kube-proxy +main +registry\.k8s\.io\/kube-proxy:v1\.37\.2 +would deny: REGISTRY_NOT_ALLOWED/m,
    );
    expect(text.stdout).toMatch(/Summary: .*would-deny 0.*not intercepted 2/);
    expect(text.code).toBe(0);
    expect((await audit(['--fail-on-not-intercepted'])).code).toBe(1);
  });

  it('before the gate is registered, the namespaces manifests/base would exclude', async () => {
    registered = false;
    const r = await audit(['-o', 'json']);
    const report = JSON.parse(r.stdout) as { interception: { by: string; notIntercepted: number } };
    expect(report.interception.by).toMatch(/all but registry-gate-system and kube-system/);
    expect(report.interception.notIntercepted).toBe(2);
    expect(r.stderr).not.toMatch(/cannot read/);
    expect(r.code).toBe(0);
  });
});
