import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cluster,
  createNamespace,
  describeE2E,
  ok,
  repoRoot,
  startGate,
  type Gate,
  type Kubectl,
  waitFor,
} from './harness/index.js';

/** A Pod that PodSecurity `restricted` admits (the gate's own namespace enforces it). */
function restrictedPod(name: string, image: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'c',
          image,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  });
}

describeE2E('failure tiers: what happens while registry-gate is down', () => {
  let kubectl: Kubectl;
  let gate: Gate;
  const create = (namespace: string, name: string, image = 'nginx:1.27') =>
    kubectl(['create', '-n', namespace, '-f', '-'], { input: restrictedPod(name, image) });

  beforeAll(async () => {
    kubectl = cluster().kubectl;
    gate = await startGate(kubectl, {
      policyYaml: await readFile(join(repoRoot, 'examples/mycorp-policy.yaml'), 'utf8'),
    });
    await createNamespace(kubectl, 'tenant');
    await createNamespace(kubectl, 'platform', { 'registry-gate.io/critical': 'true' });
    await createNamespace(kubectl, 'incident');
  });
  afterAll(async () => gate?.close());

  it('judges critical namespaces like any other while the gate is up', async () => {
    await ok(create('platform', 'up'));
    const stored = await ok(
      kubectl(['get', 'pod', 'up', '-n', 'platform', '-o', 'jsonpath={.spec.containers[0].image}']),
    );
    expect(stored).toBe('registry.mycorp.com/dockerhub/library/nginx:1.27');
    const denied = await create('platform', 'evil', 'ghcr.io/evil/app:1');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('denied the request: registry-gate: 1 image is not allowed');
  });

  it('with the server stopped: tenants fail closed, critical and break-glass namespaces and the gate itself are admitted', async () => {
    await gate.stopServer();
    const tenant = await create('tenant', 'down');
    expect(tenant.code).toBe(1);
    expect(tenant.stderr).toMatch(
      /^Error from server \(InternalError\): error when creating "STDIN": Internal error occurred: failed calling webhook "mutate\.registry-gate\.io": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/mutate\?timeout=5s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused\n$/,
    );
    expect((await kubectl(['get', 'pod', 'down', '-n', 'tenant'])).code).toBe(1);

    const critical = await create('platform', 'down');
    expect(critical.code).toBe(0);
    // Failing open means unjudged: the image is stored as written.
    expect(
      await ok(
        kubectl(['get', 'pod', 'down', '-n', 'platform', '-o', 'jsonpath={.spec.containers[0].image}']),
      ),
    ).toBe('nginx:1.27');

    expect((await create('incident', 'before')).code).toBe(1);
    await ok(kubectl(['label', 'namespace', 'incident', 'registry-gate.io/break-glass=INC-1234']));
    await waitFor(
      'break-glass to take effect',
      async () => ((await create('incident', 'after')).code === 0 ? true : undefined),
      10_000,
    );

    for (const namespace of ['kube-system', 'registry-gate-system']) {
      const run = await create(namespace, 'unjudged', 'ghcr.io/evil/app:1');
      expect({ namespace, code: run.code, stderr: run.stderr }).toEqual({ namespace, code: 0, stderr: '' });
    }
  });
});
