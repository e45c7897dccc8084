import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import {
  GATE_NAMESPACE as NS,
  createPullSecret,
  mirrorPolicy,
  pod,
  writeInstallOverlay,
} from './harness/node-install.js';
import { openshiftImageCrds } from './harness/openshift-crds.js';
import { BUSYBOX_UPSTREAM, busyboxInMirror } from './harness/node-images.js';
import {
  describeNode,
  nodeCluster,
  ok,
  repoRoot,
  waitFor,
  type Kubectl,
  type NodeCluster,
} from './harness/index.js';

/**
 * The opt-in overlays, installed in-cluster from the image like the default one: pull-secret propagation (the gate
 * copies the mirror's secret into a namespace that never had it, and a Deployment there is pulled with the copy) and
 * OpenShift live mode (a mirror set created in the cluster, with OpenShift's own CRDs, rewrites the next Pod).
 */
describeNode('the opt-in overlays in-cluster: pull-secret propagation and OpenShift live mode', () => {
  let cluster: NodeCluster;
  let kubectl: Kubectl;
  let installed: string | undefined;

  const install = async (name: string, overlay: string, policy: string): Promise<void> => {
    // What an administrator does first: the gate's namespace, and the mirror's pull secret in it.
    await ok(kubectl(['apply', '-f', join(repoRoot, 'manifests/base/namespace.yaml')]));
    await createPullSecret(cluster, NS);
    installed = await writeInstallOverlay(cluster, name, overlay, policy);
    await ok(kubectl(['apply', '-k', installed]));
    await ok(
      kubectl(['wait', '-n', NS, '--for=condition=Complete', 'job/registry-gate-certs', '--timeout=180s'], {
        timeoutMs: 200_000,
      }),
    );
    await ok(
      kubectl(['rollout', 'status', '-n', NS, 'deployment/registry-gate', '--timeout=180s'], {
        timeoutMs: 200_000,
      }),
    );
  };
  /** A Deployment of busybox:1.36 in `namespace`, Running; returns its Pod. */
  const runWeb = async (namespace: string): Promise<Awaited<ReturnType<typeof pod>>> => {
    await ok(
      kubectl([
        'create',
        'deployment',
        'web',
        '-n',
        namespace,
        `--image=${BUSYBOX_UPSTREAM}`,
        '--',
        'sleep',
        '3600',
      ]),
    );
    await ok(
      kubectl(['rollout', 'status', '-n', namespace, 'deployment/web', '--timeout=120s'], {
        timeoutMs: 150_000,
      }),
    );
    const name = (await ok(kubectl(['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'name']))).trim();
    return pod(kubectl, namespace, name.replace(/^pod\//, ''));
  };

  beforeAll(async () => {
    cluster = nodeCluster();
    kubectl = cluster.kubectl;
  });
  afterEach(async () => {
    if (installed)
      await ok(kubectl(['delete', '-k', installed, '--ignore-not-found'], { timeoutMs: 180_000 }));
    installed = undefined;
  });

  it('pull-secrets: a namespace created without the mirror secret gets a copy, and its Pods are pulled with it', async () => {
    await install(
      'pull-secrets',
      'manifests/overlays/pull-secrets',
      mirrorPolicy(cluster.mirror, [
        '  pullSecrets:',
        `    - {registry: "${cluster.mirror}", secretName: mirror-pull, from: {namespace: ${NS}, name: mirror-pull}}`,
      ]),
    );
    await ok(kubectl(['create', 'namespace', 'team-copy']));
    try {
      const copied = await waitFor(
        'the gate to copy the pull secret into team-copy',
        async () => {
          const r = await kubectl([
            'get',
            'secret',
            'mirror-pull',
            '-n',
            'team-copy',
            '-o',
            'jsonpath={.type}',
          ]);
          return r.code === 0 ? r.stdout : undefined;
        },
        60_000,
        500,
      );
      expect(copied).toBe('kubernetes.io/dockerconfigjson');
      const web = await runWeb('team-copy');
      expect(web.status.phase).toBe('Running');
      expect(web.spec.containers[0]?.image).toBe(busyboxInMirror(cluster.mirror));
      expect(web.spec.imagePullSecrets).toEqual([{ name: 'mirror-pull' }]);
    } finally {
      await kubectl(['delete', 'namespace', 'team-copy', '--wait=false']);
    }
  });

  it('openshift-live: an ImageTagMirrorSet created in the cluster sends the next Deployment through the mirror', async () => {
    await ok(kubectl(['apply', '--server-side', '-f', '-'], { input: await openshiftImageCrds() }));
    await ok(
      kubectl([
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd/imagetagmirrorsets.config.openshift.io',
        'crd/images.config.openshift.io',
      ]),
    );
    await install(
      'openshift-live',
      'manifests/overlays/openshift-live',
      [
        'apiVersion: registry-gate.io/v1alpha1',
        'kind: RegistryPolicy',
        'metadata: {name: openshift}',
        'spec:',
        '  mode: enforce',
        '  sources: {openshift: true}',
        '  pullSecrets:',
        `    - {registry: "${cluster.mirror}", secretName: mirror-pull}`,
        '',
      ].join('\n'),
    );
    await ok(kubectl(['create', 'namespace', 'team-ocp']));
    try {
      await createPullSecret(cluster, 'team-ocp');
      await ok(
        kubectl(['apply', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'config.openshift.io/v1',
            kind: 'ImageTagMirrorSet',
            metadata: { name: 'dockerhub' },
            spec: { imageTagMirrors: [{ source: 'docker.io', mirrors: [`${cluster.mirror}/dockerhub`] }] },
          }),
        }),
      );
      await waitFor(
        'the ImageTagMirrorSet to reach admission',
        async () => {
          const r = await kubectl([
            'run',
            'probe',
            '-n',
            'team-ocp',
            `--image=${BUSYBOX_UPSTREAM}`,
            '--dry-run=server',
            '-o',
            'jsonpath={.spec.containers[0].image}',
          ]);
          return r.stdout === busyboxInMirror(cluster.mirror) ? true : undefined;
        },
        30_000,
        500,
      );
      const web = await runWeb('team-ocp');
      expect(web.status.phase).toBe('Running');
      expect(web.spec.containers[0]?.image).toBe(busyboxInMirror(cluster.mirror));
    } finally {
      await kubectl(['delete', 'namespace', 'team-ocp', '--wait=false']);
      await kubectl(['delete', 'imagetagmirrorset', 'dockerhub', '--ignore-not-found']);
    }
  });
});
