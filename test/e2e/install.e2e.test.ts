import { X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cluster,
  createNamespace,
  describeE2E,
  ok,
  repoRoot,
  startGate,
  stderrBesidesSortNote,
  waitFor,
  type Gate,
  type Kubectl,
  type Run,
} from './harness/index.js';

const NS = 'registry-gate-system';
const OVERLAYS = [
  'manifests/base',
  'manifests/overlays/self-signed',
  'manifests/overlays/openshift-disconnected',
];

interface Secret {
  metadata: { resourceVersion: string };
  type: string;
  data: Record<string, string>;
}
interface WebhookConfiguration {
  metadata: { resourceVersion: string };
  webhooks: { name: string; clientConfig: { caBundle?: string } }[];
}

const pems = (bundle: string): string[] =>
  bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

describeE2E('installing with manifests/: kubectl apply -k, registry-gate certs, RBAC, uninstall', () => {
  let kubectl: Kubectl;
  let work: string;
  let certsKubeconfig: string;

  const secret = async (name: string): Promise<Secret> =>
    JSON.parse(await ok(kubectl(['get', 'secret', name, '-n', NS, '-o', 'json']))) as Secret;
  const field = (s: Secret, key: string): string => Buffer.from(s.data[key] ?? '', 'base64').toString('utf8');
  const configs = async (): Promise<WebhookConfiguration[]> =>
    Promise.all(
      ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration'].map(
        async (kind) =>
          JSON.parse(await ok(kubectl(['get', kind, 'registry-gate', '-o', 'json']))) as WebhookConfiguration,
      ),
    );
  /** `registry-gate certs` from dist/, as the certs ServiceAccount of the self-signed overlay (its token only). */
  const certs = async (...args: string[]): Promise<Run> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [
        join(repoRoot, 'dist/main.js'),
        'certs',
        `--kubeconfig=${certsKubeconfig}`,
        ...args,
      ]);
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    kubectl = cluster().kubectl;
    work = await mkdtemp(join(repoRoot, '.e2e', 'install-'));
  });
  afterAll(async () => {
    // Whatever happened, leave no webhook that would block the next file's Pods.
    await kubectl?.([
      'delete',
      'mutatingwebhookconfiguration/registry-gate',
      'validatingwebhookconfiguration/registry-gate',
      '--ignore-not-found',
    ]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('applies the base and every overlay: server dry-run first, then for real, without an error or warning', async () => {
    // A server dry-run judges namespaced objects only inside an existing namespace.
    await ok(kubectl(['apply', '-f', 'manifests/base/namespace.yaml']));
    for (const overlay of OVERLAYS) {
      // A Job's pod template is immutable, and here the certs Job never finishes (no kubelet) to be cleaned up by
      // its TTL: an image change between overlays needs it deleted first, as docs/install.md says for upgrades.
      await ok(kubectl(['delete', 'job', 'registry-gate-certs', '-n', NS, '--ignore-not-found']));
      const dry = await kubectl(['apply', '--dry-run=server', '-k', overlay]);
      expect({ overlay, code: dry.code, stderr: stderrBesidesSortNote(dry.stderr) }).toEqual({
        overlay,
        code: 0,
        stderr: '',
      });
      const real = await kubectl(['apply', '-k', overlay]);
      expect({ overlay, code: real.code, stderr: stderrBesidesSortNote(real.stderr) }).toEqual({
        overlay,
        code: 0,
        stderr: '',
      });
    }
    const policy = await ok(
      kubectl(['get', 'configmap', 'registry-gate-policy', '-n', NS, '-o', 'jsonpath={.data.policy\\.yaml}']),
    );
    expect(policy).toContain('name: openshift-disconnected');
  });

  it('PodSecurity restricted admits the Pods the controller-manager creates for the gate and its certs Job', async () => {
    const pods = await waitFor(
      'three registry-gate Pods and the certs Job Pod',
      async () => {
        const out = await ok(
          kubectl([
            'get',
            'pods',
            '-n',
            NS,
            '-o',
            'jsonpath={range .items[*]}{.metadata.labels.app\\.kubernetes\\.io/component}{"\\n"}{end}',
          ]),
        );
        const components = out.split('\n').filter(Boolean).sort();
        if (components.filter((c) => c === 'webhook').length >= 3 && components.includes('certs'))
          return components;
        throw new Error(`Pods so far: ${components.join(', ') || 'none'}`);
      },
      60_000,
    );
    // Three replicas; a fourth while the openshift overlay's new image rolls out (maxSurge 1, none ready here).
    expect(pods.filter((c) => c === 'webhook').length).toBeGreaterThanOrEqual(3);
    const refused = await ok(
      kubectl(['get', 'events', '-n', NS, '--field-selector=reason=FailedCreate', '-o', 'name']),
    );
    expect(refused).toBe('');
  });

  it('grants the certs ServiceAccount exactly what `registry-gate certs` needs, and the server none', async () => {
    const can = async (as: string, ...args: string[]): Promise<string> =>
      (await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${NS}:${as}`, ...args])).stdout.trim();
    const expectations: [string, string[], string][] = [
      ['registry-gate-certs', ['get', 'secret/registry-gate-tls', '-n', NS], 'yes'],
      ['registry-gate-certs', ['update', 'secret/registry-gate-ca', '-n', NS], 'yes'],
      ['registry-gate-certs', ['create', 'secrets', '-n', NS], 'yes'],
      ['registry-gate-certs', ['patch', 'mutatingwebhookconfiguration/registry-gate'], 'yes'],
      ['registry-gate-certs', ['patch', 'validatingwebhookconfiguration/registry-gate'], 'yes'],
      ['registry-gate-certs', ['get', 'secret/other', '-n', NS], 'no'],
      ['registry-gate-certs', ['list', 'secrets', '-n', NS], 'no'],
      ['registry-gate-certs', ['list', 'secrets', '--all-namespaces'], 'no'],
      ['registry-gate-certs', ['create', 'secrets', '-n', 'default'], 'no'],
      ['registry-gate-certs', ['patch', 'mutatingwebhookconfiguration/someone-else'], 'no'],
      ['registry-gate-certs', ['delete', 'mutatingwebhookconfiguration/registry-gate'], 'no'],
      ['registry-gate', ['get', 'secrets', '-n', NS], 'no'],
      ['registry-gate', ['list', 'pods', '--all-namespaces'], 'no'],
      ['registry-gate', ['get', 'configmaps', '-n', NS], 'no'],
    ];
    const answers = await Promise.all(expectations.map(async ([as, args]) => can(as, ...args)));
    expect(expectations.map(([as, args], i) => [as, args.join(' '), answers[i]])).toEqual(
      expectations.map(([as, args, want]) => [as, args.join(' '), want]),
    );
  });

  it('registry-gate certs: creates, does nothing when current, renews near expiry, rotates the CA with an overlap', async () => {
    // Only the ServiceAccount's token: proves the overlay's RBAC is enough.
    const token = (await ok(kubectl(['create', 'token', 'registry-gate-certs', '-n', NS]))).trim();
    const { server, caCert } = cluster();
    certsKubeconfig = join(work, 'certs.kubeconfig');
    await writeFile(
      certsKubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'e2e',
            cluster: { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') },
          },
        ],
        users: [{ name: 'certs', user: { token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'certs' } }],
        'current-context': 'e2e',
      }),
    );
    // The Job of the overlay cannot run here (no kubelet); start from nothing, as it would.
    await kubectl([
      'delete',
      'secret',
      'registry-gate-tls',
      'registry-gate-ca',
      '-n',
      NS,
      '--ignore-not-found',
    ]);

    const short = ['--days=30', '--renew-before=10', '--ca-days=300', '--ca-renew-before=200'];
    const first = await certs(...short);
    expect(first.stdout).toBe(
      'CA: new (no CA yet)\n' +
        'caBundle: set on 5 entries of mutatingwebhookconfiguration/registry-gate\n' +
        'caBundle: set on 5 entries of validatingwebhookconfiguration/registry-gate\n' +
        'serving certificate: new (the CA is rotated)\n' +
        'done: registry-gate-system/registry-gate-tls and caBundle hold 1 CA\n',
    );
    const tls = await secret('registry-gate-tls');
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Object.keys(tls.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const bundle1 = field(tls, 'ca.crt');
    for (const config of await configs()) {
      expect(
        config.webhooks.map((w) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8')),
      ).toEqual(Array(5).fill(bundle1));
    }
    const serving = new X509Certificate(field(tls, 'tls.crt'));
    expect(serving.subjectAltName).toContain('DNS:registry-gate.registry-gate-system.svc');
    expect(serving.verify(new X509Certificate(pems(bundle1)[0] ?? '').publicKey)).toBe(true);

    const versions = async (): Promise<string[]> => [
      (await secret('registry-gate-tls')).metadata.resourceVersion,
      (await secret('registry-gate-ca')).metadata.resourceVersion,
      ...(await configs()).map((c) => c.metadata.resourceVersion),
    ];
    const before = await versions();
    const idle = await certs(...short);
    expect(idle.stdout).toBe('nothing to do: certificates current, caBundle holds 1 CA\n');
    expect(await versions()).toEqual(before);

    // 90-day certificates renewed 30 days before expiry: the 30-day one issued above is due.
    const renewed = await certs('--ca-days=300', '--ca-renew-before=200');
    expect(renewed.stdout).toMatch(
      /^serving certificate: new \(the serving certificate expires .*, within 30 days\)\ndone: /,
    );
    expect(field(await secret('registry-gate-tls'), 'ca.crt')).toBe(bundle1);

    // A gate serving the current (old-CA) certificate, registered with the bundle the apiserver now trusts.
    const current = await secret('registry-gate-tls');
    const policyYaml = await readFile(join(repoRoot, 'examples/mycorp-policy.yaml'), 'utf8');
    let gate: Gate | undefined;
    try {
      gate = await startGate(kubectl, {
        policyYaml,
        certificate: { cert: field(current, 'tls.crt'), key: field(current, 'tls.key'), caBundle: bundle1 },
      });
      await createNamespace(kubectl, 'rotation');
      const admitted = async (name: string): Promise<void> => {
        const image = await ok(
          kubectl([
            'run',
            name,
            '-n',
            'rotation',
            '--image=nginx',
            '-o',
            'jsonpath={.spec.containers[0].image}',
          ]),
        );
        expect(image).toBe('registry.mycorp.com/dockerhub/library/nginx');
      };
      await admitted('before-rotation');

      // The CA has less than a year left (default --ca-renew-before 365): rotated; both CAs trusted.
      const rotated = await certs();
      expect(rotated.stdout).toMatch(/^CA: new \(the CA expires .*, within 365 days\)\n/);
      expect(rotated.stdout).toMatch(/caBundle hold 2 CAs\n$/);
      const after = await secret('registry-gate-tls');
      const bundle2 = field(after, 'ca.crt');
      expect(pems(bundle2)).toHaveLength(2);
      expect(pems(bundle2)[1]).toBe(pems(bundle1)[0]);
      // The apiserver has the two-CA bundle; the gate still presents the old CA's certificate: still trusted.
      await admitted('during-rotation');
      // Then the new serving certificate reaches the gate (in a cluster: the kubelet updates the mounted Secret).
      await gate.rotateCertificate({ cert: field(after, 'tls.crt'), key: field(after, 'tls.key') });
      await waitFor(
        'the gate to serve the new certificate',
        async () => {
          const metrics = await gate?.get('/metrics');
          const expiry = new Date(new X509Certificate(field(after, 'tls.crt')).validTo).getTime() / 1000;
          return metrics?.includes(`registry_gate_certificate_expiry_timestamp_seconds ${expiry}`)
            ? true
            : undefined;
        },
        10_000,
      );
      await admitted('after-rotation');

      const settled = await certs();
      expect(settled.stdout).toBe('nothing to do: certificates current, caBundle holds 2 CAs\n');
    } finally {
      await gate?.close();
    }
  });

  it('the cert-manager overlay applies with a server dry-run once cert-manager CRDs are present', async () => {
    const crd = (kind: string, plural: string) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.cert-manager.io` },
      spec: {
        group: 'cert-manager.io',
        scope: 'Namespaced',
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    await ok(
      kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [crd('Issuer', 'issuers'), crd('Certificate', 'certificates')],
        }),
      }),
    );
    await ok(
      kubectl([
        'wait',
        '--for=condition=Established',
        'crd/issuers.cert-manager.io',
        'crd/certificates.cert-manager.io',
      ]),
    );
    const dry = await kubectl(['apply', '--dry-run=server', '-k', 'manifests/overlays/cert-manager']);
    expect({ code: dry.code, stderr: stderrBesidesSortNote(dry.stderr) }).toEqual({ code: 0, stderr: '' });
    expect(dry.stdout).toContain(
      'certificate.cert-manager.io/registry-gate-serving created (server dry run)',
    );
    expect(dry.stdout).toContain('issuer.cert-manager.io/registry-gate-ca created (server dry run)');
  });

  it('uninstall removes the webhook configurations first, so a half-removed gate never blocks a Pod', async () => {
    // Installed as a user has it (the gate started above registered itself in the e2e way, then left).
    await ok(kubectl(['delete', 'job', 'registry-gate-certs', '-n', NS, '--ignore-not-found']));
    await ok(kubectl(['apply', '-k', 'manifests/overlays/self-signed']));
    const removed = await kubectl(['delete', '-k', 'manifests/overlays/self-signed', '--timeout=90s'], {
      timeoutMs: 120_000,
    });
    expect(stderrBesidesSortNote(removed.stderr)).toBe('');
    expect(removed.code).toBe(0);
    expect(removed.stdout.split('\n').slice(0, 2)).toEqual([
      'mutatingwebhookconfiguration.admissionregistration.k8s.io "registry-gate" deleted',
      'validatingwebhookconfiguration.admissionregistration.k8s.io "registry-gate" deleted',
    ]);
    await createNamespace(kubectl, 'after-uninstall');
    const run = await kubectl([
      'run',
      'free',
      '-n',
      'after-uninstall',
      '--image=nginx',
      '-o',
      'jsonpath={.spec.containers[0].image}',
    ]);
    expect(run).toMatchObject({ code: 0, stdout: 'nginx' });
  });
});
