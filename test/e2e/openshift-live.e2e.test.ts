import { afterAll, beforeAll, expect, it } from 'vitest';
import { openshiftImageCrds } from './harness/openshift-crds.js';
import {
  cluster,
  createNamespace,
  describeE2E,
  ok,
  startGate,
  waitFor,
  type Gate,
  type Kubectl,
} from './harness/index.js';

/**
 * `spec.sources.openshift: true` against a real apiserver with OpenShift's own CRDs (full schemas and CEL rules, from
 * the pinned github.com/openshift/api module): registry-gate following them with informers, and kubectl seeing every
 * change within seconds. Only objects a real OpenShift cluster accepts are used.
 */
const CRD_NAMES = [
  'images.config.openshift.io',
  'imagedigestmirrorsets.config.openshift.io',
  'imagetagmirrorsets.config.openshift.io',
  'imagecontentsourcepolicies.operator.openshift.io',
];

const POLICY = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: openshift-live}
spec:
  mode: enforce
  sources: {openshift: true}
`;
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const NS = 'openshift-live';

describeE2E('spec.sources.openshift: the gate follows Image, IDMS and friends live', () => {
  let kubectl: Kubectl;
  let gate: Gate;
  let attempt = 0;

  /** What a Pod with `image` becomes (dry-run on the server, so both webhooks answer): the image, or the denial. */
  const admit = async (image: string): Promise<{ image: string } | { denied: string }> => {
    const r = await kubectl([
      'run',
      `p${attempt++}`,
      '-n',
      NS,
      `--image=${image}`,
      '--dry-run=server',
      '-o',
      'jsonpath={.spec.containers[0].image}',
    ]);
    return r.code === 0 ? { image: r.stdout } : { denied: r.stderr };
  };
  const apply = async (object: unknown): Promise<void> => {
    await ok(kubectl(['apply', '-f', '-'], { input: JSON.stringify(object) }));
  };
  const metric = async (name: string): Promise<string | undefined> =>
    (await gate.get('/metrics'))
      .split('\n')
      .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

  beforeAll(async () => {
    kubectl = cluster().kubectl;
    await ok(kubectl(['apply', '--server-side', '-f', '-'], { input: await openshiftImageCrds() }));
    await ok(
      kubectl(['wait', '--for=condition=Established', '--timeout=30s', ...CRD_NAMES.map((n) => `crd/${n}`)]),
    );
    await createNamespace(kubectl, NS);
    gate = await startGate(kubectl, { policyYaml: POLICY, env: { KUBECONFIG: cluster().kubeconfig } });
  });
  afterAll(async () => {
    await gate?.close();
    await kubectl?.(['delete', 'crd', ...CRD_NAMES, '--ignore-not-found']);
  });

  it('is ready only after the first sync, and says so', async () => {
    expect(await gate.get('/readyz')).toContain('synced');
  });

  it('rewrites a digest Pod within seconds of an ImageDigestMirrorSet being created', async () => {
    expect(await admit(`quay.io/e2e-payload/app@${DIGEST}`)).toEqual({
      image: `quay.io/e2e-payload/app@${DIGEST}`,
    });
    await apply({
      apiVersion: 'config.openshift.io/v1',
      kind: 'ImageDigestMirrorSet',
      metadata: { name: 'e2e-payload' },
      spec: {
        imageDigestMirrors: [{ source: 'quay.io/e2e-payload', mirrors: ['registry.corp.example/payload'] }],
      },
    });
    const started = Date.now();
    const rewritten = await waitFor(
      'the IDMS to reach admission',
      async () => {
        const r = await admit(`quay.io/e2e-payload/app@${DIGEST}`);
        return 'image' in r && r.image.startsWith('registry.corp.example/') ? r : undefined;
      },
      10_000,
      200,
    );
    expect(rewritten).toEqual({ image: `registry.corp.example/payload/app@${DIGEST}` });
    expect(Date.now() - started).toBeLessThan(10_000);
    // digest-only: a tag reference is left as it is
    expect(await admit('quay.io/e2e-payload/app:1')).toEqual({ image: 'quay.io/e2e-payload/app:1' });
  });

  it('denies the next Pod once Image/cluster blocks its registry', async () => {
    expect(await admit('untrusted.example.com/app:1')).toEqual({ image: 'untrusted.example.com/app:1' });
    await apply({
      apiVersion: 'config.openshift.io/v1',
      kind: 'Image',
      metadata: { name: 'cluster' },
      spec: { registrySources: { blockedRegistries: ['untrusted.example.com'] } },
    });
    const denied = await waitFor(
      'the blocked registry to reach admission',
      async () => {
        const r = await admit('untrusted.example.com/app:1');
        return 'denied' in r ? r : undefined;
      },
      10_000,
      200,
    );
    expect(denied).toMatchObject({ denied: expect.stringContaining('untrusted.example.com') });
  });

  it('keeps the last good policy when a change makes it invalid, and a metric says so', async () => {
    expect(await metric('registry_gate_policy_last_reload_failed')).toBe(
      'registry_gate_policy_last_reload_failed 0',
    );
    // Each object is valid for OpenShift (a real cluster refuses an Image with both lists, so that is not this
    // case), but together they make a rewrite cycle, which the gate refuses as a policy.
    await apply({
      apiVersion: 'config.openshift.io/v1',
      kind: 'ImageTagMirrorSet',
      metadata: { name: 'e2e-cycle' },
      spec: {
        imageTagMirrors: [{ source: 'registry.corp.example/payload', mirrors: ['quay.io/e2e-payload'] }],
      },
    });
    await waitFor(
      'the rejection to be counted',
      async () =>
        (await metric('registry_gate_policy_last_reload_failed'))?.endsWith(' 1') ? true : undefined,
      10_000,
      200,
    );
    expect(await metric('registry_gate_policy_reloads_total{result="rejected"}')).toMatch(/ [1-9]\d*$/);
    // still the last good policy: the block stays, the mirror stays, and quay.io/other is not denied by an allow list
    expect(await admit('untrusted.example.com/app:1')).toMatchObject({ denied: expect.any(String) });
    expect(await admit(`quay.io/e2e-payload/app@${DIGEST}`)).toEqual({
      image: `registry.corp.example/payload/app@${DIGEST}`,
    });
    expect(await admit('ghcr.io/other/app:1')).toEqual({ image: 'ghcr.io/other/app:1' });
    const logs = await gate.logs();
    expect(logs.some((l) => l.msg === 'policy rejected; the last good policy stays in force')).toBe(true);
  });
});
