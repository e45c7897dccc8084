import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cluster,
  createNamespace,
  describeE2E,
  expectDocumentedTranscript,
  ok,
  repoRoot,
  startGate,
  stderrBesidesSortNote,
  transcript,
  waitFor,
  withoutVolatileParts,
  type Gate,
  type Kubectl,
} from './harness/index.js';

interface PodJson {
  metadata: { name: string; annotations?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec: {
    containers: { name: string; image: string }[];
    initContainers?: { name: string; image: string }[];
    ephemeralContainers?: { name: string; image: string }[];
    imagePullSecrets?: { name: string }[];
  };
}

const DOC = 'docs/admission.md';
const AUDIT_DOC = 'docs/auditing.md';
/** test/e2e/manifests/blocked-pod.yaml: look-alikes of the mirror that no rewrite applies to, and Docker Hub. */
const BLOCKED_POD_IMAGES = [
  'registry.mycorp.com.evil.io/app:1.0',
  'registry.mycorp.comx/tools:2',
  'docker.io/library/nginx:1.27',
];

describeE2E('admission through the real kube-apiserver, as kubectl users see it', () => {
  let kubectl: Kubectl;
  let gate: Gate;
  /** Runs kubectl from the checkout, so transcripts show the same relative paths a reader would type. */
  const run = (command: string, input?: string) =>
    kubectl(command.split(' ').slice(1), input === undefined ? {} : { input });

  beforeAll(async () => {
    kubectl = cluster().kubectl;
    const policyYaml = await readFile(join(repoRoot, 'examples/mycorp-policy.yaml'), 'utf8');
    gate = await startGate(kubectl, { policyYaml });
    await createNamespace(kubectl, 'shop');
    await createNamespace(kubectl, 'trial', { 'registry-gate.io/mode': 'warn' });
    await createNamespace(kubectl, 'observe', { 'registry-gate.io/mode': 'audit' });
  });
  afterAll(async () => gate?.close());

  it('dry-runs a Deployment: allowed, the rewrite its Pods will get shown as warnings, nothing stored', async () => {
    const command = 'kubectl apply --dry-run=server -n shop -f test/e2e/manifests/web-deployment.yaml';
    const result = await run(command);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('deployment.apps/web created (server dry run)\n');
    const warnings = result.stderr.split('\n').filter((l) => l.startsWith('Warning: '));
    expect(warnings).toEqual([
      'Warning: spec.template.spec.initContainers[0] "init": busybox:1.36 will be pulled as registry.mycorp.com/dockerhub/library/busybox:1.36 (mirror of docker.io)',
      'Warning: spec.template.spec.containers[0] "web": nginx:1.27 will be pulled as registry.mycorp.com/dockerhub/library/nginx:1.27 (mirror of docker.io)',
      'Warning: spec.template.spec.containers[1] "metrics": quay.io/prometheus/nginx-exporter:1.3.0 will be pulled as registry.mycorp.com/quay/prometheus/nginx-exporter:1.3.0 (mirror of quay.io)',
    ]);
    expect((await kubectl(['get', 'deployment', 'web', '-n', 'shop'])).code).toBe(1);
    await expectDocumentedTranscript(DOC, 'dry-run-deployment', transcript(command, result));
    await expectDocumentedTranscript(AUDIT_DOC, 'dry-run-deployment', transcript(command, result));
  });

  it('dry-runs every pod-template kind the same way', async () => {
    const result = await run(
      'kubectl apply --dry-run=server -n shop -f test/e2e/manifests/every-template-kind.yaml',
    );
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'statefulset.apps/db created (server dry run)',
      'daemonset.apps/agent created (server dry run)',
      'replicaset.apps/rs created (server dry run)',
      'job.batch/once created (server dry run)',
      'cronjob.batch/nightly created (server dry run)',
      'replicationcontroller/rc created (server dry run)',
      'podtemplate/tpl created (server dry run)',
    ]);
    const mirrored =
      'nginx will be pulled as registry.mycorp.com/dockerhub/library/nginx (mirror of docker.io)';
    const warnings = result.stderr.split('\n').filter((l) => l.startsWith('Warning: '));
    expect(warnings).toEqual([
      `Warning: spec.template.spec.containers[0] "db": ${mirrored}`,
      `Warning: spec.template.spec.containers[0] "agent": ${mirrored}`,
      `Warning: spec.template.spec.containers[0] "web": ${mirrored}`,
      `Warning: spec.template.spec.containers[0] "task": ${mirrored}`,
      `Warning: spec.jobTemplate.spec.template.spec.containers[0] "task": ${mirrored}`,
      `Warning: spec.template.spec.containers[0] "legacy": ${mirrored}`,
      `Warning: template.spec.containers[0] "web": ${mirrored}`,
    ]);
  });

  it('rewrites the Pods the controller-manager creates for a real Deployment, and leaves the Deployment alone', async () => {
    await ok(run('kubectl apply -n shop -f test/e2e/manifests/web-deployment.yaml'));
    const pods = await waitFor(
      'two Pods of Deployment web',
      async () => {
        const list = JSON.parse(
          await ok(kubectl(['get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'json'])),
        ) as {
          items: PodJson[];
        };
        return list.items.length === 2 ? list.items : undefined;
      },
      60_000,
    );
    for (const pod of pods) {
      expect(pod.spec.initContainers?.map((c) => c.image)).toEqual([
        'registry.mycorp.com/dockerhub/library/busybox:1.36',
      ]);
      expect(pod.spec.containers.map((c) => c.image)).toEqual([
        'registry.mycorp.com/dockerhub/library/nginx:1.27',
        'registry.mycorp.com/quay/prometheus/nginx-exporter:1.3.0',
      ]);
      expect(pod.spec.imagePullSecrets).toEqual([{ name: 'mycorp-pull' }]);
      expect(JSON.parse(pod.metadata.annotations?.['registry-gate.io/original-images'] ?? '{}')).toEqual({
        'initContainers/init': 'busybox:1.36',
        'containers/web': 'nginx:1.27',
        'containers/metrics': 'quay.io/prometheus/nginx-exporter:1.3.0',
      });
    }
    const deployment = JSON.parse(
      await ok(kubectl(['get', 'deployment', 'web', '-n', 'shop', '-o', 'json'])),
    ) as {
      metadata: { annotations?: Record<string, string> };
      spec: { template: PodJson };
    };
    expect(deployment.spec.template.spec.containers.map((c) => c.image)).toEqual([
      'nginx:1.27',
      'quay.io/prometheus/nginx-exporter:1.3.0',
    ]);
    expect(deployment.spec.template.spec.imagePullSecrets).toBeUndefined();
    expect(deployment.metadata.annotations?.['registry-gate.io/original-images']).toBeUndefined();
  });

  it('denies a Pod with look-alike hosts, naming container, image and rule; rewrites cannot save it; nothing stored', async () => {
    const command = 'kubectl apply -n shop -f test/e2e/manifests/blocked-pod.yaml';
    const result = await run(command);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error from server (Forbidden): error when creating "test/e2e/manifests/blocked-pod.yaml": admission webhook ' +
        '"validate.registry-gate.io" denied the request: registry-gate: 2 images are not allowed: ' +
        'spec.containers[0] "app": image "registry.mycorp.com.evil.io/app:1.0" is not in registrySources.allowedRegistries; ' +
        'spec.containers[1] "tools": image "registry.mycorp.comx/tools:2" is not in registrySources.allowedRegistries\n',
    );
    expect((await kubectl(['get', 'pod', 'blocked', '-n', 'shop'])).code).toBe(1);
    await expectDocumentedTranscript(DOC, 'deny-pod', transcript(command, result));
  });

  it('allows in a warn-mode namespace with the would-be denials as warnings', async () => {
    const command = 'kubectl apply -n trial -f test/e2e/manifests/blocked-pod.yaml';
    const result = await run(command);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('pod/blocked created\n');
    expect(result.stderr).toContain(
      'Warning: registry-gate (warn mode) would deny: spec.containers[0] "app": image "registry.mycorp.com.evil.io/app:1.0" is not in registrySources.allowedRegistries\n',
    );
    await expectDocumentedTranscript(DOC, 'warn-pod', transcript(command, result));
  });

  it('allows silently in an audit-mode namespace, and logs and counts the decision', async () => {
    const result = await run('kubectl apply -n observe -f test/e2e/manifests/blocked-pod.yaml');
    expect(result).toEqual({ code: 0, stdout: 'pod/blocked created\n', stderr: '' });
    const pod = JSON.parse(
      await ok(kubectl(['get', 'pod', 'blocked', '-n', 'observe', '-o', 'json'])),
    ) as PodJson;
    expect(pod.spec.containers.map((c) => c.image)).toEqual(BLOCKED_POD_IMAGES);
    const lines = await waitFor(
      'the audit decision in the log',
      async () => {
        const found = (await gate.logs()).filter((l) => l.namespace === 'observe' && l.name === 'blocked');
        return found.length >= 2 ? found : undefined;
      },
      5_000,
    );
    const validated = lines.find((l) => l.webhook === 'validate');
    expect(validated).toMatchObject({ mode: 'audit', decision: 'audit', dryRun: false });
    // Audit mode mutates nothing, so Docker Hub nginx is judged as written too.
    expect(validated?.violations).toHaveLength(3);
    const metrics = await gate.get('/metrics');
    expect(metrics).toMatch(
      /^registry_gate_admission_requests_total\{webhook="validate",kind="Pod",operation="CREATE",decision="audit",mode="audit"\} [1-9]/m,
    );
  });

  it('lets a label change through on a Pod whose image is grandfathered, changing no container', async () => {
    // The Pod was admitted in audit mode; the namespace then moves to enforce.
    await ok(kubectl(['label', 'namespace', 'observe', 'registry-gate.io/mode-']));
    await waitFor(
      'the namespace label to be gone',
      async () =>
        (await ok(kubectl(['get', 'ns', 'observe', '--show-labels']))).includes('mode=audit')
          ? undefined
          : true,
      5_000,
    );
    const result = await kubectl(['label', 'pod', 'blocked', '-n', 'observe', 'team=payments']);
    expect(result).toMatchObject({ code: 0, stdout: 'pod/blocked labeled\n' });
    const pod = JSON.parse(
      await ok(kubectl(['get', 'pod', 'blocked', '-n', 'observe', '-o', 'json'])),
    ) as PodJson;
    expect(pod.spec.containers.map((c) => c.image)).toEqual(BLOCKED_POD_IMAGES);
  });

  it('judges kubectl debug: a blocked ephemeral image is denied, a short name is rewritten', async () => {
    await ok(run('kubectl apply -n shop -f test/e2e/manifests/web-pod.yaml'));
    const denied = await kubectl([
      'debug',
      '-n',
      'shop',
      'web',
      '--image=ghcr.io/evil/toolbox:1',
      '--container=dbg1',
      '--profile=general',
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'Error from server (Forbidden): admission webhook "validate.registry-gate.io" denied the request: registry-gate: 1 image is not allowed: spec.ephemeralContainers[0] "dbg1": image "ghcr.io/evil/toolbox:1" is not in registrySources.allowedRegistries',
    );
    const allowed = await kubectl([
      'debug',
      '-n',
      'shop',
      'web',
      '--image=busybox:1.36',
      '--container=dbg2',
      '--profile=general',
    ]);
    expect(allowed.code).toBe(0);
    const pod = JSON.parse(await ok(kubectl(['get', 'pod', 'web', '-n', 'shop', '-o', 'json']))) as PodJson;
    expect(pod.spec.ephemeralContainers?.map((c) => [c.name, c.image])).toEqual([
      ['dbg2', 'registry.mycorp.com/dockerhub/library/busybox:1.36'],
    ]);
  });

  it('shows the Pod as it would be stored with a dry-run -o yaml: mirror image, pull secret, annotation', async () => {
    // The kubectl debug test above left Pod web behind.
    await ok(kubectl(['delete', 'pod', 'web', '-n', 'shop', '--wait=false', '--grace-period=0', '--force']));
    await waitFor(
      'Pod web to be gone',
      async () => ((await kubectl(['get', 'pod', 'web', '-n', 'shop'])).code === 1 ? true : undefined),
      30_000,
    );
    const command = 'kubectl create --dry-run=server -n shop -f test/e2e/manifests/web-pod.yaml -o yaml';
    const result = await run(command);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}- image: registry\.mycorp\.com\/dockerhub\/library\/nginx:1\.27$/m);
    expect(result.stdout).toMatch(/^ {2}imagePullSecrets:\n {2}- name: mycorp-pull$/m);
    expect((await kubectl(['get', 'pod', 'web', '-n', 'shop'])).code).toBe(1);
    await expectDocumentedTranscript(
      AUDIT_DOC,
      'dry-run-pod-yaml',
      withoutVolatileParts(transcript(command, result)),
    );
  });

  it('shows the rewrite in kubectl diff', async () => {
    const command = 'kubectl diff -n shop -f test/e2e/manifests/web-pod.yaml';
    const result = await run(command);
    expect(result.code).toBe(1); // kubectl diff: 1 means "differences found"
    expect(result.stdout).toMatch(/^\+ {2}- image: registry\.mycorp\.com\/dockerhub\/library\/nginx:1\.27$/m);
    expect(result.stdout).toMatch(
      /^\+ {4}registry-gate\.io\/original-images: '\{"containers\/web":"nginx:1\.27"\}'$/m,
    );
  });

  it('accepts the webhook configurations of manifests/ as they are, with server-side apply', async () => {
    const result = await kubectl(['apply', '--server-side', '--dry-run=server', '-k', 'manifests/base']);
    expect(stderrBesidesSortNote(result.stderr)).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'mutatingwebhookconfiguration.admissionregistration.k8s.io/registry-gate serverside-applied (server dry run)',
    );
    expect(result.stdout).toContain(
      'validatingwebhookconfiguration.admissionregistration.k8s.io/registry-gate serverside-applied (server dry run)',
    );
  });
});
