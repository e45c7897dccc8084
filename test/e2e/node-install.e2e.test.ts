import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  BUSYBOX_UPSTREAM,
  busyboxInMirror,
  gateImageInMirror,
  registryLogLines,
} from './harness/node-images.js';
import {
  describeNode,
  nodeCluster,
  ok,
  repoRoot,
  stderrBesidesSortNote,
  waitFor,
  type Kubectl,
  type NodeCluster,
} from './harness/index.js';

const NS = 'registry-gate-system';
const TENANT = 'shop';

interface PodStatus {
  metadata: { name: string };
  spec: { containers: { image: string }[]; imagePullSecrets?: { name: string }[] };
  status: {
    phase?: string;
    podIP?: string;
    containerStatuses?: { imageID?: string; state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

/**
 * The e2e overlay of manifests/overlays/self-signed: its only changes are those a one-node cluster with a private
 * mirror needs (DESIGN.md, "In-cluster install on a one-node test cluster"): the image, two replicas, the mirror's
 * pull secret on the gate's ServiceAccounts, and the policy.
 */
async function writeInstallOverlay(cluster: NodeCluster): Promise<string> {
  const dir = join(cluster.work, 'overlay-install');
  await mkdir(dir, { recursive: true });
  const mirror = cluster.mirror;
  await writeFile(
    join(dir, 'policy.yaml'),
    [
      'apiVersion: registry-gate.io/v1alpha1',
      'kind: RegistryPolicy',
      'metadata: {name: e2e-node}',
      'spec:',
      '  mode: enforce',
      '  mirrors:',
      `    - {source: docker.io, mirror: "${mirror}/dockerhub"}`,
      '  registrySources:',
      `    allowedRegistries: ["${mirror}"]`,
      '  pullSecrets:',
      `    - {registry: "${mirror}", secretName: mirror-pull}`,
      '',
    ].join('\n'),
  );
  const [name, tag] = gateImageInMirror(mirror).split(/:(?=[^:/]+$)/);
  const pullSecret = (sa: string): object => ({
    target: { kind: 'ServiceAccount', name: sa },
    patch: JSON.stringify([{ op: 'add', path: '/imagePullSecrets', value: [{ name: 'mirror-pull' }] }]),
  });
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [relative(dir, join(repoRoot, 'manifests/overlays/self-signed'))],
    images: [{ name: 'ghcr.io/registry-gate/registry-gate', newName: name, newTag: tag }],
    patches: [
      {
        target: { kind: 'Deployment', name: 'registry-gate' },
        patch: JSON.stringify([{ op: 'replace', path: '/spec/replicas', value: 2 }]),
      },
      {
        target: { kind: 'HorizontalPodAutoscaler', name: 'registry-gate' },
        patch: JSON.stringify([{ op: 'replace', path: '/spec/minReplicas', value: 2 }]),
      },
      pullSecret('registry-gate'),
      pullSecret('registry-gate-certs'),
    ],
    configMapGenerator: [
      {
        name: 'registry-gate-policy',
        namespace: NS,
        behavior: 'replace',
        files: ['policy.yaml'],
        options: { disableNameSuffixHash: true },
      },
    ],
  };
  await writeFile(join(dir, 'kustomization.yaml'), JSON.stringify(kustomization, null, 2));
  return dir;
}

async function createPullSecret(cluster: NodeCluster, namespace: string): Promise<void> {
  const secret = await ok(
    cluster.kubectl([
      'create',
      'secret',
      'docker-registry',
      'mirror-pull',
      `--namespace=${namespace}`,
      `--docker-server=${cluster.mirror}`,
      `--docker-username=${cluster.mirrorUser}`,
      `--docker-password=${cluster.mirrorPassword}`,
      '--dry-run=client',
      '-o=json',
    ]),
  );
  await ok(cluster.kubectl(['apply', '-f', '-'], { input: secret }));
}

async function pod(kubectl: Kubectl, namespace: string, name: string): Promise<PodStatus> {
  return JSON.parse(await ok(kubectl(['get', 'pod', name, '-n', namespace, '-o', 'json']))) as PodStatus;
}

async function gatePods(kubectl: Kubectl): Promise<PodStatus[]> {
  const out = await ok(
    kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=webhook', '-o', 'json']),
  );
  return (JSON.parse(out) as { items: PodStatus[] }).items;
}

/** Waits for a Pod's first container to be waiting on an image pull that failed; returns that message. */
async function pullFailure(kubectl: Kubectl, namespace: string, name: string): Promise<string> {
  return waitFor(
    `${namespace}/${name} to fail its pull`,
    async () => {
      const waiting = (await pod(kubectl, namespace, name)).status.containerStatuses?.[0]?.state?.waiting;
      return waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff'
        ? (waiting.message ?? '')
        : undefined;
    },
    120_000,
    500,
  );
}

describeNode(
  'installed as users install it: its own image, in-cluster, pods pulled through the mirror',
  () => {
    let cluster: NodeCluster;
    let kubectl: Kubectl;
    let overlay: string;

    beforeAll(async () => {
      cluster = nodeCluster();
      kubectl = cluster.kubectl;
      overlay = await writeInstallOverlay(cluster);
      // What an administrator does before installing: the gate's namespace, and the mirror's pull secret in it.
      await ok(kubectl(['apply', '-f', join(repoRoot, 'manifests/base/namespace.yaml')]));
      await createPullSecret(cluster, NS);
      await ok(kubectl(['create', 'namespace', TENANT]));
      await createPullSecret(cluster, TENANT);
    });

    afterAll(async () => {
      // Leave the cluster as found for the next file, even when a test failed half-way.
      await kubectl(['delete', '-k', overlay, '--ignore-not-found', '--wait=false']);
      await kubectl(['delete', 'namespace', TENANT, '--ignore-not-found', '--wait=false']);
    });

    it('installs with kubectl apply -k: the certs Job completes, the gate Pods are Ready under restricted, caBundle is set', async () => {
      const applied = await kubectl(['apply', '-k', overlay]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(stderrBesidesSortNote(applied.stderr)).toBe('');
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

      const pods = await gatePods(kubectl);
      expect(pods).toHaveLength(2);
      for (const p of pods) {
        expect(p.status.phase).toBe('Running');
        expect(p.spec.containers[0]?.image).toBe(gateImageInMirror(cluster.mirror));
      }
      const nsLabels = JSON.parse(
        await ok(kubectl(['get', 'namespace', NS, '-o', 'jsonpath={.metadata.labels}'])),
      ) as Record<string, string>;
      expect(nsLabels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
        const bundles = await ok(
          kubectl(['get', kind, 'registry-gate', '-o', 'jsonpath={.webhooks[*].clientConfig.caBundle}']),
        );
        expect(
          bundles.split(' ').every((b) => b.length > 100),
          `${kind} caBundle`,
        ).toBe(true);
      }
    });

    it('is answered by the in-cluster Pods: a dry-run create is rewritten (mutate) and a forbidden image refused (validate)', async () => {
      const rewritten = await waitFor(
        'the apiserver to call the in-cluster gate',
        async () => {
          const r = await kubectl([
            'run',
            'probe',
            '-n',
            TENANT,
            `--image=${BUSYBOX_UPSTREAM}`,
            '--dry-run=server',
            '-o',
            'jsonpath={.spec.containers[0].image}',
          ]);
          return r.code === 0 && r.stdout !== BUSYBOX_UPSTREAM ? r.stdout : undefined;
        },
        60_000,
        500,
      );
      expect(rewritten).toBe(busyboxInMirror(cluster.mirror));
      const denied = await kubectl(['run', 'miner', '-n', TENANT, '--image=quay.io/evil/miner:1']);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/admission webhook "validate\.registry-gate\.io" denied the request/);
      expect(denied.stderr).toContain('quay.io/evil/miner:1');
      const stored = await kubectl(['get', 'pod', 'miner', '-n', TENANT]);
      expect(stored.stderr).toMatch(/NotFound/);
      const logs = await ok(
        kubectl(['logs', '-n', NS, '-l', 'app.kubernetes.io/component=webhook', '--tail=-1', '--prefix']),
      );
      expect(logs).toMatch(/"webhook":"validate".*"decision":"deny"/);
    });

    it('kubectl create deployment busybox:1.36: Pods run the mirror image, pulled with the injected secret as the robot user', async () => {
      await ok(
        kubectl([
          'create',
          'deployment',
          'web',
          '-n',
          TENANT,
          `--image=${BUSYBOX_UPSTREAM}`,
          '--',
          'sleep',
          '3600',
        ]),
      );
      await ok(
        kubectl(['rollout', 'status', '-n', TENANT, 'deployment/web', '--timeout=120s'], {
          timeoutMs: 150_000,
        }),
      );
      const pods = (
        JSON.parse(await ok(kubectl(['get', 'pods', '-n', TENANT, '-l', 'app=web', '-o', 'json']))) as {
          items: PodStatus[];
        }
      ).items;
      expect(pods).toHaveLength(1);
      const web = pods[0]!;
      expect(web.status.phase).toBe('Running');
      expect(web.spec.containers[0]?.image).toBe(busyboxInMirror(cluster.mirror));
      expect(web.spec.imagePullSecrets).toEqual([{ name: 'mirror-pull' }]);
      const pulls = (await registryLogLines(cluster)).filter(
        (l) =>
          l.includes('authorized request') &&
          /auth\.user\.name="?mirror-robot/.test(l) &&
          l.includes('dockerhub/library/busybox') &&
          /useragent="?containerd\//.test(l),
      );
      expect(pulls.length).toBeGreaterThan(0);
    });

    it('the same mirror image without the secret fails with 401 (a namespace the gate does not judge)', async () => {
      const image = busyboxInMirror(cluster.mirror);
      await ok(
        kubectl([
          'run',
          'no-secret',
          '-n',
          'kube-system',
          `--image=${image}`,
          '--restart=Never',
          '--',
          'sleep',
          '3600',
        ]),
      );
      try {
        const message = await pullFailure(kubectl, 'kube-system', 'no-secret');
        // containerd 2.x: "pull access denied … authorization failed: no basic auth credentials"
        expect(message).toMatch(/401|authorization failed/);
        const denials = (await registryLogLines(cluster)).filter((l) =>
          /"(HEAD|GET) \/v2\/dockerhub\/library\/busybox\/[^"]*" 401 .*"containerd\//.test(l),
        );
        expect(denials.length).toBeGreaterThan(0);
      } finally {
        await kubectl([
          'delete',
          'pod',
          'no-secret',
          '-n',
          'kube-system',
          '--grace-period=0',
          '--wait=false',
        ]);
      }
    });

    it('an image rewritten to the mirror but missing there is admitted and fails its pull naming the mirror reference', async () => {
      await ok(
        kubectl([
          'run',
          'ghost',
          '-n',
          TENANT,
          '--image=busybox:9.99',
          '--restart=Never',
          '--',
          'sleep',
          '1',
        ]),
      );
      const message = await pullFailure(kubectl, TENANT, 'ghost');
      expect(message).toContain(`${cluster.mirror}/dockerhub/library/busybox:9.99`);
      await kubectl(['delete', 'pod', 'ghost', '-n', TENANT, '--grace-period=0', '--wait=false']);
    });
  },
);
